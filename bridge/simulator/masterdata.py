"""People, accounts and the master-data payloads Centra emits besides orders (§4.3, §4.4)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from bridge.simulator.catalog import (
    DELIVERY_WINDOW,
    FIRST_NAMES,
    LAST_NAMES,
    PAYMENT_TERMS,
    PLACES,
    PRODUCTS,
    SALESREPS,
    SHIPPING_TERMS,
    WHOLESALE_MARKET,
    Market,
    Place,
    Size,
    SizeTable,
    Warehouse,
)
from bridge.simulator.soap import Payload


@dataclass(frozen=True, slots=True)
class Person:
    """A webshop customer or a wholesale buyer, with one postal address."""

    id: str
    firstname: str
    lastname: str
    email: str
    telephone: str
    address1: str
    address2: str
    city: str
    state: str
    zipcode: str
    country: str

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.firstname} {self.lastname}"


@dataclass(slots=True)
class Account:
    """A wholesale (B2B) customer with its buyers and terms."""

    id: str
    company: str
    address: Person
    buyers: list[Person] = field(default_factory=list)
    paymentterms: tuple[str, str] = PAYMENT_TERMS[0]
    shippingterms: tuple[str, str] = SHIPPING_TERMS[0]
    salesrep: tuple[str, str, str, str] = SALESREPS[0]
    market: Market = WHOLESALE_MARKET


def new_person(rng: random.Random, person_id: str, place: Place | None = None) -> Person:
    """A plausible person living at ``place`` (or anywhere)."""
    place = place or rng.choice(PLACES)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace(" ", "").replace("é", "e").replace("ü", "u")
    return Person(
        id=person_id,
        firstname=first,
        lastname=last,
        email=f"{handle}{rng.randint(1, 99)}@example.com",
        telephone=f"{place.phone_prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        address1=f"{rng.choice(place.streets)} {rng.randint(1, 120)}",
        address2=rng.choice(("", "", "", f"Apt {rng.randint(1, 40)}")),
        city=place.city,
        state=place.state,
        zipcode=place.zipcode,
        country=place.country,
    )


def moved(rng: random.Random, person: Person) -> Person:
    """The same person at a new address in another city of the same country."""
    places = [p for p in PLACES if p.country == person.country] or list(PLACES)
    fresh = new_person(rng, person.id, rng.choice(places))
    return replace(
        person,
        address1=fresh.address1,
        address2=fresh.address2,
        city=fresh.city,
        state=fresh.state,
        zipcode=fresh.zipcode,
        telephone=fresh.telephone,
    )


def address_payload(person: Person, company: str = "") -> Payload:
    """The shared Address shape, in REF element order (§4.4)."""
    return {
        "company": company,
        "firstname": person.firstname,
        "lastname": person.lastname,
        "address1": person.address1,
        "address2": person.address2,
        "city": person.city,
        "state": person.state,
        "zipcode": person.zipcode,
        "country": person.country,
        "email": person.email,
        "telephone": person.telephone,
    }


def customer_payload(person: Person) -> Payload:
    """A B2C customer, flat as customers_Update sends it (§4.3)."""
    return {
        "id": person.id,
        "store": "1",
        "type": "retail",
        "status": "active",
        "firstname": person.firstname,
        "lastname": person.lastname,
        "address1": person.address1,
        "address2": person.address2,
        "city": person.city,
        "state": person.state,
        "zipcode": person.zipcode,
        "country": person.country,
        "email": person.email,
        "telephone": person.telephone,
    }


def account_payload(account: Account) -> Payload:
    """A wholesale account with its buyers (§4.4)."""
    rep_id, rep_name, rep_email, rep_percent = account.salesrep
    market = account.market
    return {
        "id": account.id,
        "type": "wholesale",
        "status": "active",
        "description": account.company,
        "other": "",
        "discount": "0.00",
        "market": {"id": market.id, "description": market.description},
        "pricelist": {"id": market.pricelist, "description": f"{market.pricelist} prices"},
        "internalinformation": "",
        "creditlimit": "25000.00",
        "salesrep": {"id": rep_id, "email": rep_email, "name": rep_name, "percent": rep_percent},
        "paymentterms": _term(account.paymentterms),
        "shippingterms": _term(account.shippingterms),
        "accountaddress": address_payload(account.address, account.company),
        "shippingaddress": address_payload(account.address, account.company),
        "invoiceaddress": address_payload(account.address, account.company),
        "buyers": {"buyer": [_buyer_payload(buyer, market) for buyer in account.buyers]},
    }


def _buyer_payload(buyer: Person, market: Market) -> Payload:
    return {
        "id": buyer.id,
        "store": str(market.store),
        "status": "active",
        "firstname": buyer.firstname,
        "lastname": buyer.lastname,
        "address1": buyer.address1,
        "address2": buyer.address2,
        "city": buyer.city,
        "state": buyer.state,
        "zipcode": buyer.zipcode,
        "country": buyer.country,
        "email": buyer.email,
        "telephone": buyer.telephone,
        "market": {"id": market.id, "description": market.description},
    }


def _term(term: tuple[str, str]) -> Payload:
    return {"id": term[0], "description": term[1]}


def market_payload(market: Market) -> Payload:
    """A market: retail is a DTC store, wholesale a B2B store (§4.4)."""
    return {
        "id": market.id,
        "store": str(market.store),
        "type": market.type,
        "description": market.description,
    }


def warehouse_payload(warehouse: Warehouse) -> Payload:
    """A warehouse: just its id and name (§4.4)."""
    return {"id": warehouse.id, "description": warehouse.description}


def size_payload(rng: random.Random, table: SizeTable, size: Size) -> Payload:
    """A size with the size table it belongs to (a size contains its table, §4.4)."""
    return {
        "id": size.id,
        "description": size.description,
        "sku": size.sku,
        "ean": "".join(str(rng.randint(0, 9)) for _ in range(13)),
        "comment": "",
        "sizetable": {
            "id": table.id,
            "description": table.description,
            "stockdivisor": "1",
            "stockunit": "pcs",
        },
    }


def salesrep_payload(rep: tuple[str, str, str, str]) -> Payload:
    """A sales representative (§4.4)."""
    rep_id, name, email, percent = rep
    return {"id": rep_id, "email": email, "name": name, "percent": percent}


def pricelist_payload(rng: random.Random, market: Market) -> Payload:
    """A price list with prices for a few products and their variations (§4.4)."""
    wholesale = market.type == "wholesale"
    items = []
    for product in rng.sample(PRODUCTS, 3):
        price = product.price(market.currency, wholesale=wholesale)
        item: Payload = {"id": product.id, "price": str(price)}
        if wholesale:
            item["priceb"] = str(product.price(market.currency))
        item["variation"] = [{"id": v.id, "price": str(price)} for v in product.variations]
        items.append(item)
    return {
        "id": market.pricelist,
        "store": str(market.store),
        "type": market.type,
        "currency": market.currency,
        "description": f"{market.pricelist} prices",
        "items": {"product": items},
    }


def delivery_window_payload() -> Payload:
    """The delivery window wholesale orders are placed against."""
    return dict(DELIVERY_WINDOW)


def tax_amount(gross: Decimal, rate: str) -> Decimal:
    """The VAT share of a tax-inclusive amount."""
    percent = Decimal(rate)
    return (gross * percent / (100 + percent)).quantize(Decimal("0.01"))

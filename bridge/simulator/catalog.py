"""Reference data and counters the event generator draws from: markets, stock, people, clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

BASE_CURRENCY = "SEK"
#: Rates against the base currency, written as Centra writes them ("10.43100").
CURRENCY_RATES = {"SEK": "1.00000", "EUR": "11.43100", "USD": "10.43100"}
#: Retail VAT per country, in Centra's "25.000" style.
TAX_RATES = {
    "SE": "25.000",
    "DE": "19.000",
    "NL": "21.000",
    "FR": "20.000",
    "FI": "25.500",
    "DK": "25.000",
    "GB": "20.000",
    "US": "0.000",
}
#: Fixed offset for ``created`` stamps; Centra writes local time with its offset.
UTC_OFFSET = "+01:00"
#: The merchant's time zone of every generated date (a fixed +01:00, ``Etc/GMT-1`` in IANA).
MERCHANT_TIMEZONE = "Etc/GMT-1"
#: ``event/date`` formats the simulator can send.
EVENT_DATE_FORMATS = ("plain", "iso")


@dataclass(frozen=True, slots=True)
class Market:
    """A Centra market and the store, currency and price list that go with it."""

    id: str
    description: str
    store: int
    type: str
    currency: str
    countries: tuple[str, ...]
    pricelist: str


MARKETS = (
    Market("Retail-SE", "Sweden", 1, "retail", "SEK", ("SE",), "Retail-SEK"),
    Market("Retail-EU", "Europe", 1, "retail", "EUR", ("DE", "NL", "FR", "FI", "DK"), "Retail-EUR"),
    Market("Retail-US", "United States", 1, "retail", "USD", ("US",), "Retail-USD"),
    Market(
        "Wholesale-Market",
        "Wholesale Europe",
        2,
        "wholesale",
        "EUR",
        ("DE", "NL", "SE", "GB"),
        "Wholesale-EUR",
    ),
)
RETAIL_MARKETS = tuple(m for m in MARKETS if m.type == "retail")
WHOLESALE_MARKET = next(m for m in MARKETS if m.type == "wholesale")


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A stock location, known to Centra by the ERP's id."""

    id: str
    description: str


WAREHOUSES = (
    Warehouse("Main-Warehouse", "Main warehouse Borås"),
    Warehouse("EU-3PL", "3PL Venlo"),
    Warehouse("US-3PL", "3PL New Jersey"),
)


@dataclass(frozen=True, slots=True)
class Size:
    """One size of a size table; ``sku`` is the size part of the full SKU."""

    id: str
    description: str
    sku: str


@dataclass(frozen=True, slots=True)
class SizeTable:
    """A size table; Centra cannot change it after creation."""

    id: str
    description: str
    sizes: tuple[Size, ...]


APPAREL = SizeTable(
    "Apparel",
    "XS S M L XL",
    tuple(
        Size(str(n), label, f"0{n}") for n, label in enumerate(("XS", "S", "M", "L", "XL"), start=1)
    ),
)
SHOES = SizeTable(
    "Shoes-EU", "EU 38-45", tuple(Size(str(n), str(n), str(n)) for n in range(38, 46))
)
ONE_SIZE = SizeTable("One-Size", "One size", (Size("OS", "", "00"),))
SIZETABLES = (APPAREL, SHOES, ONE_SIZE)


@dataclass(frozen=True, slots=True)
class Variation:
    """A colour (or other variant) of a product; its id is unique over all products."""

    id: str
    sku: str
    description: str


@dataclass(frozen=True, slots=True)
class Product:
    """A product as the ERP created it in Centra with products_Update."""

    id: str
    sku: str
    description: str
    brand: str
    folder: str
    sizetable: SizeTable
    price_eur: Decimal
    variations: tuple[Variation, ...]

    def price(self, currency: str, *, wholesale: bool = False) -> Decimal:
        """Retail price in ``currency``, rounded the way shops round; wholesale is half of it."""
        if currency == "SEK":
            price = (self.price_eur * 11 / 10).quantize(Decimal("1")) * 10
        elif currency == "USD":
            price = (self.price_eur * Decimal("1.1")).quantize(Decimal("1"))
        else:
            price = self.price_eur
        return (price / 2 if wholesale else price).quantize(Decimal("0.01"))


def _product(
    id_: str,
    sku: str,
    description: str,
    brand: str,
    folder: str,
    table: SizeTable,
    price: str,
    colours: tuple[tuple[str, str], ...],
) -> Product:
    variations = tuple(Variation(f"{id_}-{code}", code, name) for code, name in colours)
    return Product(id_, sku, description, brand, folder, table, Decimal(price), variations)


PRODUCTS = (
    _product(
        "P-1001",
        "TURTLE001",
        "Turtleneck sweater",
        "Nordform",
        "Sweaters / Turtleneck",
        APPAREL,
        "89.00",
        (("RED", "Red"), ("NAVY", "Navy"), ("OAT", "Oatmeal")),
    ),
    _product(
        "P-1002",
        "CARDI002",
        "Merino cardigan",
        "Nordform",
        "Sweaters / Cardigans",
        APPAREL,
        "119.00",
        (("GRY", "Grey melange"), ("BLK", "Black")),
    ),
    _product(
        "P-1003",
        "TEE003",
        "Organic cotton tee",
        "Nordform",
        "Tops / T-shirts",
        APPAREL,
        "29.00",
        (("WHT", "White"), ("BLK", "Black"), ("SKY", "Sky blue")),
    ),
    _product(
        "P-1004",
        "PARKA004",
        "Down parka",
        "Fjällvik",
        "Outerwear / Parkas",
        APPAREL,
        "349.00",
        (("OLV", "Olive"), ("BLK", "Black")),
    ),
    _product(
        "P-1005",
        "CHINO005",
        "Slim chinos",
        "Nordform",
        "Trousers / Chinos",
        APPAREL,
        "79.00",
        (("KHK", "Khaki"), ("NVY", "Navy")),
    ),
    _product(
        "P-1006",
        "SHIRT006",
        "Oxford shirt",
        "Nordform",
        "Shirts / Casual",
        APPAREL,
        "69.00",
        (("BLU", "Light blue"), ("WHT", "White")),
    ),
    _product(
        "P-1007",
        "BOOT007",
        "Leather Chelsea boot",
        "Fjällvik",
        "Shoes / Boots",
        SHOES,
        "189.00",
        (("BRN", "Brown"), ("BLK", "Black")),
    ),
    _product(
        "P-1008",
        "SNKR008",
        "Canvas sneaker",
        "Fjällvik",
        "Shoes / Sneakers",
        SHOES,
        "75.00",
        (("WHT", "Off-white"), ("GRN", "Forest green")),
    ),
    _product(
        "P-1009",
        "BEANIE009",
        "Rib beanie",
        "Nordform",
        "Accessories / Hats",
        ONE_SIZE,
        "25.00",
        (("RED", "Red"), ("GRY", "Grey")),
    ),
    _product(
        "P-1010",
        "SCARF010",
        "Wool scarf",
        "Nordform",
        "Accessories / Scarves",
        ONE_SIZE,
        "45.00",
        (("CML", "Camel"), ("CHK", "Check")),
    ),
    _product(
        "P-1011",
        "TOTE011",
        "Canvas tote bag",
        "Fjällvik",
        "Accessories / Bags",
        ONE_SIZE,
        "35.00",
        (("NAT", "Natural"),),
    ),
    _product(
        "P-1012",
        "SOCK012",
        "Wool socks 2-pack",
        "Nordform",
        "Accessories / Socks",
        SHOES,
        "19.00",
        (("MIX", "Mixed"),),
    ),
)


@dataclass(frozen=True, slots=True)
class Place:
    """A city with a street list, for addresses that look like the country they are in."""

    country: str
    city: str
    zipcode: str
    state: str
    streets: tuple[str, ...]
    phone_prefix: str


PLACES = (
    Place("SE", "Stockholm", "113 51", "", ("Odengatan", "Sveavägen", "Götgatan"), "+46 70"),
    Place("SE", "Göteborg", "411 19", "", ("Linnégatan", "Vasagatan"), "+46 73"),
    Place("DE", "Berlin", "10435", "", ("Kastanienallee", "Schönhauser Allee"), "+49 151"),
    Place("DE", "Hamburg", "20357", "", ("Schanzenstraße", "Eppendorfer Weg"), "+49 160"),
    Place("NL", "Amsterdam", "1016 GV", "", ("Prinsengracht", "Haarlemmerstraat"), "+31 6"),
    Place("FR", "Lyon", "69002", "", ("Rue Mercière", "Rue de la République"), "+33 6"),
    Place("FI", "Helsinki", "00100", "", ("Mannerheimintie", "Bulevardi"), "+358 40"),
    Place("DK", "København", "2200", "", ("Jægersborggade", "Nørrebrogade"), "+45 20"),
    Place("GB", "Manchester", "M4 1HN", "", ("Oldham Street", "Tib Street"), "+44 7700"),
    Place("US", "Brooklyn", "11211", "NY", ("Bedford Avenue", "Grand Street"), "+1 718"),
    Place("US", "Portland", "97209", "OR", ("NW 23rd Avenue", "Burnside Street"), "+1 503"),
)

FIRST_NAMES = (
    "Anna",
    "Erik",
    "Maja",
    "Lukas",
    "Sofia",
    "Jonas",
    "Emma",
    "Noah",
    "Ida",
    "Liam",
    "Sanne",
    "Mikko",
    "Claire",
    "Oskar",
    "Freja",
    "Daniel",
    "Chloé",
    "Aino",
)
LAST_NAMES = (
    "Andersson",
    "Berg",
    "Schneider",
    "de Vries",
    "Virtanen",
    "Nielsen",
    "Martin",
    "Johnson",
    "Lindqvist",
    "Müller",
    "Jansen",
    "Dubois",
    "Walker",
    "Holm",
)

#: (id, name, email, commission percent) of sales representatives for wholesale.
SALESREPS = (
    ("SR-01", "Karin Ek", "karin.ek@example.com", "5.00"),
    ("SR-02", "Thomas Weber", "thomas.weber@example.com", "4.50"),
    ("SR-03", "Lotte Visser", "lotte.visser@example.com", "6.00"),
)
#: (id, title) of terms the ERP created with paymentterms_Update / shippingterms_Update.
PAYMENT_TERMS = (("NET30", "30 days net"), ("NET60", "60 days net"), ("PREPAY", "Prepayment"))
SHIPPING_TERMS = (("DAP", "Delivered at place"), ("EXW", "Ex works"))
#: (id, company) of wholesale accounts.
ACCOUNTS = (
    ("ACC-100", "Nordic Outdoor AB"),
    ("ACC-101", "Stadtmode GmbH"),
    ("ACC-102", "De Winkel B.V."),
    ("ACC-103", "Northern Threads Ltd"),
)
#: (carrier, service) pairs used on shipments.
CARRIERS = (
    ("PostNord", "MyPack Home"),
    ("DHL", "Express"),
    ("UPS", "Standard"),
    ("Budbee", "Home delivery"),
)
DELIVERY_WINDOW = {
    "id": "DW-AW24",
    "description": "Autumn/Winter 2024 main delivery",
    "type": "preorder",
    "atonce": "false",
    "start": "2024-07-01",
    "stop": "2024-08-31",
}


class Sequence:
    """A counter handing out ids as text; Centra's numbers only grow."""

    def __init__(self, start: int) -> None:
        self._numbers = itertools.count(start)

    def next(self) -> str:
        """The next id."""
        return str(next(self._numbers))


@dataclass(slots=True)
class Sequences:
    """Every id counter of one simulated Centra instance, apart so their ranges never collide."""

    order: Sequence = field(default_factory=lambda: Sequence(1001))
    orderitem: Sequence = field(default_factory=lambda: Sequence(70001))
    customer: Sequence = field(default_factory=lambda: Sequence(3001))
    invoice: Sequence = field(default_factory=lambda: Sequence(9001))
    #: Centra's internal ids of objects the ERP created (the ``entry`` of their events).
    internal: Sequence = field(default_factory=lambda: Sequence(1))


class SimClock:
    """Simulated time: it moves only when told to, so generated data is reproducible."""

    def __init__(self, start: datetime, *, event_dates: str = "plain") -> None:
        self.now = start
        #: ``event/date``'s format: "plain" as in Centra's captures, "iso" as in its reference.
        self.event_dates = event_dates

    def advance(self, seconds: int) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)

    def event_date(self) -> str:
        """``event/date``: ``YYYY-MM-DD HH:MM:SS`` in the merchant's time, as Centra's captures
        send it, or (``event_dates="iso"``) an xsd:dateTime with offset, as its reference (U6)."""
        if self.event_dates == "iso":
            return self.iso()
        return self.now.strftime("%Y-%m-%d %H:%M:%S")

    def iso(self) -> str:
        """ISO 8601 with offset, the format of order ``created`` stamps."""
        return self.now.strftime("%Y-%m-%dT%H:%M:%S") + UTC_OFFSET

    def day(self, plus_days: int = 0) -> str:
        """``YYYY-MM-DD``, for invoice and due dates."""
        return (self.now + timedelta(days=plus_days)).strftime("%Y-%m-%d")


def money(amount: Decimal) -> str:
    """Decimal text with two places, as Centra writes amounts ("1135.00")."""
    return str(amount.quantize(Decimal("0.01")))

"""Orders over their life in Centra (placed, confirmed, part-cancelled, shipped, completed) and
their payload, always the complete current state in REF element order (centra-soap.md §5)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from bridge.simulator.catalog import (
    BASE_CURRENCY,
    CARRIERS,
    CURRENCY_RATES,
    PRODUCTS,
    TAX_RATES,
    WAREHOUSES,
    Market,
    Product,
    Sequences,
    SimClock,
    Size,
    Variation,
    money,
)
from bridge.simulator.masterdata import (
    Account,
    Person,
    address_payload,
    delivery_window_payload,
    tax_amount,
)
from bridge.simulator.soap import Payload


@dataclass(slots=True)
class LineSize:
    """One size on an order line: an order row with its own ``orderitem`` id."""

    size: Size
    qty: int
    orderitem: str
    warehouse: str


@dataclass(slots=True)
class Line:
    """An order line: one variation of one product, in one or more sizes."""

    product: Product
    variation: Variation
    price: Decimal
    origprice: Decimal
    tax: str
    sizes: list[LineSize]


#: (line, row, quantity) — part of a line, as cancellations and shipments carry them.
Part = tuple[Line, LineSize, int]


@dataclass(slots=True)
class Refund:
    """A return of shipped rows; its id is the ERP's, unique over all orders (§1.2)."""

    id: str
    status: str
    parts: list[Part]


@dataclass(slots=True)
class Shipment:
    """A shipment; Centra numbers them ``<order>-<appendix>`` (U10), an ERP picks its own ids."""

    id: str
    appendix: int
    created: str
    parts: list[Part]
    shipping: Decimal
    #: (carrier, service), e.g. ("DHL", "EXPRESS").
    carrier: tuple[str, str]
    shipped: bool = False
    paid: bool = False
    tracking: str = ""
    goodtogo: bool = True
    refunds: list[Refund] = field(default_factory=list)


@dataclass(slots=True)
class Order:
    """An order and the steps still ahead of it in its life."""

    number: str
    market: Market
    created: str
    status: str
    customer: Person
    lines: list[Line]
    shipping: Decimal
    steps: list[str]
    account: Account | None = None
    locked: str = "no"
    cancelled: list[Part] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    captures: list[Payload] = field(default_factory=list)
    transaction: str = ""

    @property
    def retail(self) -> bool:
        """Whether it came from the webshop (store 1) rather than wholesale (store 2)."""
        return self.market.type == "retail"

    @property
    def total(self) -> Decimal:
        """What is still ordered, plus shipping."""
        return sum(
            (line.price * row.qty for line in self.lines for row in line.sizes), self.shipping
        )


def new_retail_order(
    rng: random.Random, ids: Sequences, clock: SimClock, market: Market, customer: Person
) -> Order:
    """A webshop order, confirmed at once and paid by card (authorised, not yet captured)."""
    lines = [_line(rng, ids, market, customer.country) for _ in range(rng.randint(1, 4))]
    steps = (["cancel"] if rng.random() < 0.25 else []) + ["ship", "complete"]
    order = Order(
        ids.order.next(),
        market,
        clock.iso(),
        "confirmed",
        customer,
        lines,
        Decimal(rng.choice(("0.00", "4.90", "9.90"))),
        steps,
    )
    order.transaction = f"{rng.getrandbits(64):016X}"
    return order


def new_wholesale_order(
    rng: random.Random, ids: Sequences, clock: SimClock, account: Account
) -> Order:
    """A pre-order from a buyer, ``pending`` until someone in Centra confirms it (§2.2)."""
    buyer = rng.choice(account.buyers)
    lines = [_line(rng, ids, account.market, "", bulk=True) for _ in range(rng.randint(2, 5))]
    steps = ["confirm"] + (["cancel"] if rng.random() < 0.3 else []) + ["ship", "complete"]
    return Order(
        ids.order.next(),
        account.market,
        clock.iso(),
        "pending",
        buyer,
        lines,
        Decimal("0.00"),
        steps,
        account=account,
    )


def _line(
    rng: random.Random, ids: Sequences, market: Market, country: str, *, bulk: bool = False
) -> Line:
    product = rng.choice(PRODUCTS)
    variation = rng.choice(product.variations)
    table = product.sizetable.sizes
    sizes = rng.sample(table, rng.randint(1, min(3, len(table))))
    warehouse = WAREHOUSES[2].id if market.currency == "USD" else WAREHOUSES[0].id
    rows = [
        LineSize(
            size, rng.randint(2, 12) if bulk else rng.randint(1, 3), ids.orderitem.next(), warehouse
        )
        for size in sizes
    ]
    origprice = product.price(market.currency, wholesale=bulk)
    discount = Decimal(rng.choice(("0", "0", "0", "0.1", "0.2")))
    price = (origprice * (1 - discount)).quantize(Decimal("0.01"))
    return Line(product, variation, price, origprice, TAX_RATES.get(country, "0.000"), rows)


def advance(order: Order, rng: random.Random, clock: SimClock) -> bool:
    """Take the next step of the order's life; False when nothing is left to do."""
    while order.steps:
        step = order.steps.pop(0)
        if step == "confirm":
            order.status = "confirmed"
            return True
        if step == "cancel" and _cancel_part(order, rng):
            return True
        if step == "ship":
            _ship(order, rng, clock)
            return True
        if step == "complete":
            _complete(order, rng, clock)
            return True
    return False


def _cancel_part(order: Order, rng: random.Random) -> bool:
    """Cancel part of one row, leaving at least one piece of it ordered."""
    rows = [(line, row) for line in order.lines for row in line.sizes if row.qty >= 2]
    if not rows:
        return False
    line, row = rng.choice(rows)
    qty = rng.randint(1, row.qty - 1)
    row.qty -= qty
    order.cancelled.append((line, row, qty))
    return True


def _ship(order: Order, rng: random.Random, clock: SimClock) -> None:
    """A shipment of everything still ordered, good to go but not yet sent."""
    appendix = len(order.shipments) + 1
    parts = [(line, row, row.qty) for line in order.lines for row in line.sizes if row.qty]
    order.shipments.append(
        Shipment(
            f"{order.number}-{appendix}",
            appendix,
            clock.iso(),
            parts,
            order.shipping,
            rng.choice(CARRIERS),
        )
    )
    order.status = "processing"


def _complete(order: Order, rng: random.Random, clock: SimClock) -> None:
    """The shipment leaves with a tracking number; for retail the card payment is captured."""
    for shipment in order.shipments:
        shipment.shipped = True
        shipment.paid = order.retail
        shipment.tracking = f"{rng.randint(10**11, 10**12 - 1)}SE"
    if order.retail:
        order.captures.append(
            {
                "type": "capture",
                "paid": "yes",
                "value": money(order.total),
                "created": clock.iso(),
                "transaction": order.transaction,
                "document": "",
            }
        )
    order.status = "completed"


def order_payload(order: Order) -> Payload:
    """The complete current order, in REF element order (§5)."""
    market, currency = order.market, order.market.currency
    payload: Payload = {"id": order.number}
    if order.retail:
        payload["ordernumber"] = order.number
    payload |= {
        "type": market.type,
        "store": str(market.store),
        "locked": order.locked,
        "status": order.status,
    }
    if order.retail:
        payload["ordertotal"] = money(order.total)
    payload |= {
        "currency": currency,
        "currencyrate": CURRENCY_RATES[currency],
        "basecurrency": BASE_CURRENCY,
        "created": order.created,
        "internal": "false",
        "preferred_shipping_date": "",
    }
    payload |= (
        _wholesale_parties(order.account, order.customer) if order.account else {"salesrep": None}
    )
    if order.retail:
        payload["additionals"] = {
            "additional": [{"key": "shipwallet_delivery_type", "value": "delivery"}]
        }
    warehouse = next(w for w in WAREHOUSES if w.id == order.lines[0].sizes[0].warehouse)
    payload["primary_warehouse"] = {
        "warehouse": {"id": warehouse.id, "description": warehouse.description}
    }
    payload["shipping"] = _fee(order.shipping, "Shipping", "shipping")
    payload["payments"] = _payments(order)
    payload["products"] = {
        "product": [
            _line_payload(line, [(row, row.qty) for row in line.sizes]) for line in order.lines
        ]
    }
    payload["cancelled"] = {
        "product": [_line_payload(line, [(row, qty)]) for line, row, qty in order.cancelled]
    }
    payload["shipments"] = {"shipment": [_shipment_payload(order, s) for s in order.shipments]}
    if order.shipments and order.shipments[-1].shipped:
        payload["carrierinformation"] = _carrier(order.shipments[-1])
    if order.retail:
        payload["customer"] = {"id": order.customer.id, "description": order.customer.name}
    company = order.account.company if order.account else ""
    payload["shippingaddress"] = address_payload(order.customer, company)
    payload["billingaddress"] = address_payload(order.customer, company)
    payload |= {
        "internalinformation": "",
        "other": "",
        "ponumber": f"PO-{order.number}" if order.account else "",
        "market": {"id": market.id, "description": market.description},
        "pricelist": {"id": market.pricelist, "description": f"{market.pricelist} prices"},
        "ecvatno": "",
    }
    return payload


def _wholesale_parties(account: Account, buyer: Person) -> Payload:
    rep_id, rep_name, rep_email, rep_percent = account.salesrep
    return {
        "buyer": {
            "id": buyer.id,
            "description": buyer.name,
            "firstname": buyer.firstname,
            "lastname": buyer.lastname,
            "email": buyer.email,
        },
        "salesrep": {"id": rep_id, "email": rep_email, "name": rep_name, "percent": rep_percent},
        "account": {"id": account.id, "description": account.company},
        "paymentterms": {"id": account.paymentterms[0], "description": account.paymentterms[1]},
        "shippingterms": {"id": account.shippingterms[0], "description": account.shippingterms[1]},
        "deliverywindow": delivery_window_payload(),
    }


def _payments(order: Order) -> Payload:
    total = money(order.total)
    if not order.retail:
        return {
            "name": "Invoice",
            "type": "inv",
            "total": total,
            "status": "incomplete",
            "method": "invoice",
            "payment": [],
        }
    authorisation = {
        "type": "auth",
        "paid": "no",
        "value": total,
        "created": order.created,
        "transaction": order.transaction,
        "document": "",
    }
    return {
        "name": "Adyen",
        "type": "cc",
        "total": total,
        "status": "success" if order.captures else "incomplete",
        "method": "adyen-card",
        "payment": [authorisation, *order.captures],
    }


def _line_payload(line: Line, rows: list[tuple[LineSize, int]]) -> Payload:
    """An OrderLine with the given rows and quantities (§5)."""
    qty = sum(n for _, n in rows)
    product, variation = line.product, line.variation
    discount = line.origprice - line.price
    return {
        "id": product.id,
        "tax": line.tax,
        "sku": product.sku + variation.sku,
        "origprice": money(line.origprice),
        "price": money(line.price),
        "discount": money(discount),
        "qty": str(qty),
        "subtotal": money(line.price * qty),
        "description": product.description,
        "variation": {"id": variation.id, "description": variation.description},
        "brand": {"id": product.brand, "description": product.brand},
        "sizes": {"size": [_row_payload(line, row, n) for row, n in rows]},
        "type": "",
        "comment": "",
    }


def _row_payload(line: Line, row: LineSize, qty: int) -> Payload:
    label = " ".join(
        filter(None, (line.product.description, line.variation.description, row.size.description))
    )
    return {
        "id": row.size.id,
        "sku": line.product.sku + line.variation.sku + row.size.sku,
        "qty": str(qty),
        "preorder": "no",
        "description": row.size.description,
        "orderitem": {"id": row.orderitem, "description": label},
        "warehouseitems": {"warehouse": [{"id": row.warehouse, "qty": str(qty)}]},
        "supplierorderitems": {"supplierorder": []},
    }


def _shipment_payload(order: Order, shipment: Shipment) -> Payload:
    currency = order.market.currency
    value = sum((line.price * qty for line, _, qty in shipment.parts), shipment.shipping)
    payload: Payload = {
        "id": shipment.id,
        "paid": _yes(shipment.paid),
        "shipped": _yes(shipment.shipped),
        "goodtogo": _yes(shipment.goodtogo),
        "appendix": str(shipment.appendix),
        "shipmenttotal": money(value),
        "paidtotal": money(value if shipment.paid else Decimal(0)),
        "currency": currency,
        "currencyrate": CURRENCY_RATES[currency],
        "basecurrency": BASE_CURRENCY,
        "created": shipment.created,
        "shippingaddress": address_payload(order.customer),
    }
    if shipment.shipped or shipment.tracking:
        payload["carrierinformation"] = _carrier(shipment)
    payload["products"] = {
        "product": [_line_payload(line, [(row, qty)]) for line, row, qty in shipment.parts]
    }
    payload["refunds"] = {"refund": [_refund_payload(refund) for refund in shipment.refunds]}
    payload["shipping"] = _fee(shipment.shipping, "Shipping", "shipping")
    return payload


def _refund_payload(refund: Refund) -> Payload:
    """A refund in REF element order (§1.1): id, products, status."""
    return {
        "id": refund.id,
        "products": {
            "product": [_line_payload(line, [(row, qty)]) for line, row, qty in refund.parts]
        },
        "status": refund.status,
    }


def _carrier(shipment: Shipment) -> Payload:
    return {
        "carrier": shipment.carrier[0],
        "service": shipment.carrier[1],
        "account": "",
        "taxid": "",
        "tracking": shipment.tracking,
        "packages": "1",
    }


def _fee(amount: Decimal, description: str, key: str) -> Payload:
    return {"subtotal": money(amount), "description": description, "key": key, "id": ""}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def invoice_payload(order: Order, shipment: Shipment, invoice_id: str, clock: SimClock) -> Payload:
    """The invoice Centra raises for a shipment (§4.4)."""
    currency = order.market.currency
    total = sum((line.price * qty for line, _, qty in shipment.parts), shipment.shipping)
    vat = sum(
        (tax_amount(line.price * qty, line.tax) for line, _, qty in shipment.parts), Decimal(0)
    )
    payload: Payload = {
        "id": invoice_id,
        "store": str(order.market.store),
        "status": "active",
        "serialno": f"INV-{invoice_id}",
        "documenttype": "invoice",
        "type": order.market.type,
        "currency": currency,
        "currencyrate": CURRENCY_RATES[currency],
        "basecurrency": BASE_CURRENCY,
        "total": money(total),
        "vat": money(vat),
        "totalpaid": money(total if shipment.paid else Decimal(0)),
        "invoicedate": clock.day(),
        "orderdate": order.created[:10],
        "duedate": clock.day(30 if order.account else 0),
    }
    if order.account:
        payload["buyer"] = {"id": order.customer.id, "description": order.customer.name}
        payload["account"] = {"id": order.account.id, "description": order.account.company}
    payload |= {
        "order": {"id": order.number, "description": f"Order {order.number}"},
        "shipment": {"id": shipment.id, "description": f"Shipment {shipment.id}"},
        "paymentterms": order.account.paymentterms[1] if order.account else "",
        "billingaddress": address_payload(order.customer),
        "items": {
            "invoiceitem": [_invoice_item(line, row, qty) for line, row, qty in shipment.parts]
        },
        "locked": "yes",
    }
    return payload


def _invoice_item(line: Line, row: LineSize, qty: int) -> Payload:
    subtotal = line.price * qty
    return {
        "itemid": row.orderitem,
        "qty": str(qty),
        "price": money(line.price),
        "tax": money(tax_amount(subtotal, line.tax)),
        "subtotal": money(subtotal),
        "description": line.product.description,
        "product": {"id": line.product.id, "description": line.product.description},
        "variation": {"id": line.variation.id, "description": line.variation.description},
        "size": {"id": row.size.id, "description": row.size.description},
        "discount": money(line.origprice - line.price),
        "sku": line.product.sku + line.variation.sku + row.size.sku,
    }

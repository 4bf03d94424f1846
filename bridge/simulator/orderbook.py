"""The orders the simulator knows and answers orders_Update for: generated ones and those a test
adds, every refund id used, and a read of an order's state for assertions.

Not thread-safe on its own; the simulator guards it with one lock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bridge.simulator.catalog import Market, Product, Size, SizeTable, Variation
from bridge.simulator.masterdata import Person
from bridge.simulator.order_updates import (
    RefundKey,
    Refused,
    UpdateRules,
    apply_order_update,
    open_quantity,
)
from bridge.simulator.orders import Line, LineSize, Order, Part, Shipment, order_payload
from bridge.simulator.soap import Payload
from bridge.simulator.store import UpdateOutcome


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One order row of an order a test adds: product, variation and size ids, and how many."""

    product: str
    variation: str
    size: str
    qty: int
    price: Decimal = Decimal("100.00")
    #: Centra's order-row id; None: the next free one.
    orderitem: str | None = None


@dataclass(frozen=True, slots=True)
class RowState:
    """One order row: ordered, cancelled, in shipments, shipped, and what is still open."""

    orderitem: str
    product: str
    variation: str
    size: str
    ordered: int
    cancelled: int
    #: In any shipment, shipped or not.
    in_shipments: int
    #: In shipments marked shipped.
    shipped: int
    #: ordered - cancelled - in_shipments: what a shipment or a cancel may still take.
    open: int


@dataclass(frozen=True, slots=True)
class RefundState:
    """A refund: its shipment, status and quantity per orderitem."""

    id: str
    shipment: str
    status: str
    rows: dict[str, int]


@dataclass(frozen=True, slots=True)
class ShipmentState:
    """A shipment as Centra holds it."""

    id: str
    appendix: int
    goodtogo: bool
    shipped: bool
    paid: bool
    carrier: str
    service: str
    tracking: str
    shipping: Decimal
    #: Quantity per orderitem.
    rows: dict[str, int]
    refunds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as Centra holds it now, for tests to assert on."""

    id: str
    type: str
    store: str
    locked: bool
    status: str
    rows: dict[str, RowState]
    shipments: dict[str, ShipmentState]
    #: How many captures were made (the guide: at most one).
    captures: int
    refunds: dict[str, RefundState]

    @property
    def captured(self) -> bool:
        """Whether the payment was captured."""
        return self.captures > 0


@dataclass(frozen=True, slots=True)
class OrdersOutcome:
    """The answer to an orders_Update and the orders it changed (each gets an event)."""

    outcome: UpdateOutcome
    changed: list[Order]


class OrderBook:
    """Known orders by id; applies orders_Update one order at a time (U9)."""

    def __init__(
        self,
        *,
        now: Callable[[], str] = lambda: "",
        adopt: Callable[[str], Order | None] = lambda number: None,
    ) -> None:
        """``now`` stamps new shipments and captures; ``adopt`` hands over an order the
        simulator generated (and stops generating for it) when an update first names it."""
        self._orders: dict[str, Order] = {}
        self._refunds: dict[str, RefundKey] = {}
        self._now = now
        self._adopt = adopt

    def add(self, order: Order) -> None:
        """Know ``order`` from now on (a second order with its number is an error)."""
        if order.number in self._orders or self._adopt(order.number) is not None:
            raise ValueError(f"order {order.number} already exists")
        self._orders[order.number] = order

    def get(self, number: str) -> Order | None:
        """The order, adopting a generated one on first use."""
        if number not in self._orders:
            adopted = self._adopt(number)
            if adopted is None:
                return None
            self._orders[number] = adopted
        return self._orders[number]

    def update(self, items: Sequence[Payload | str], *, capture_fails: bool) -> OrdersOutcome:
        """Apply each ``<order>`` on its own: one refused order fails alone, the others are
        applied, and ``success`` is false when any was refused (U9, as ``ObjectStore.upsert``).
        A refused order is left exactly as it was (invented; Centra's behaviour is unknown)."""
        errors: list[str] = []
        notices: list[str] = []
        changed: list[Order] = []
        rules = UpdateRules(now=self._now, refunds=self._refunds, capture_fails=capture_fails)
        for position, item in enumerate(items, start=1):
            number = str(item.get("id", "")).strip() if isinstance(item, dict) else ""
            if not isinstance(item, dict) or not number:
                # Invented wording, as for the other updates.
                errors.append(f"order #{position}: missing <id>, order not saved")
                continue
            order = self.get(number)
            if order is None:
                errors.append(f"Order {number}: no such order")
                continue
            candidate = copy.deepcopy(order)
            try:
                applied = apply_order_update(candidate, item, rules)
            except Refused as exc:
                errors.append(str(exc))
                continue
            self._orders[number] = candidate
            self._refunds.update(applied.refunds)
            notices.extend(applied.notices)
            if order_payload(candidate) != order_payload(order):
                changed.append(candidate)
        return OrdersOutcome(UpdateOutcome(not errors, errors, notices), changed)

    def state(self, number: str) -> OrderState | None:
        """The order's current state, or None when the simulator does not know it."""
        order = self.get(number)
        return None if order is None else order_state(order)


def order_state(order: Order) -> OrderState:
    """What tests assert on, read from the order's model."""
    rows: dict[str, RowState] = {}
    for line in order.lines:
        for row in line.sizes:
            cancelled = sum(q for _, r, q in order.cancelled if r is row)
            in_shipments = sum(q for s in order.shipments for _, r, q in s.parts if r is row)
            shipped = sum(
                q for s in order.shipments if s.shipped for _, r, q in s.parts if r is row
            )
            rows[row.orderitem] = RowState(
                row.orderitem,
                line.product.id,
                line.variation.id,
                row.size.id,
                ordered=row.qty + cancelled,
                cancelled=cancelled,
                in_shipments=in_shipments,
                shipped=shipped,
                open=open_quantity(order, row),
            )
    refunds = {
        refund.id: RefundState(refund.id, shipment.id, refund.status, _per_orderitem(refund.parts))
        for shipment in order.shipments
        for refund in shipment.refunds
    }
    return OrderState(
        order.number,
        order.market.type,
        str(order.market.store),
        order.locked == "yes",
        order.status,
        rows,
        {s.id: _shipment_state(s) for s in order.shipments},
        len(order.captures),
        refunds,
    )


def _shipment_state(shipment: Shipment) -> ShipmentState:
    return ShipmentState(
        shipment.id,
        shipment.appendix,
        shipment.goodtogo,
        shipment.shipped,
        shipment.paid,
        shipment.carrier[0],
        shipment.carrier[1],
        shipment.tracking,
        shipment.shipping,
        _per_orderitem(shipment.parts),
        tuple(refund.id for refund in shipment.refunds),
    )


def _per_orderitem(parts: Sequence[Part]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, row, qty in parts:
        counts[row.orderitem] = counts.get(row.orderitem, 0) + qty
    return counts


def build_order(
    number: str,
    market: Market,
    customer: Person,
    rows: Sequence[tuple[OrderRow, str]],
    *,
    created: str,
    status: str,
    shipping: Decimal,
    warehouse: str,
) -> Order:
    """An order with exactly the given rows (each with its orderitem id), one line per
    product and variation in first-seen order, as Centra groups them."""
    if not rows:
        raise ValueError("an order needs at least one row")
    lines: dict[tuple[str, str], Line] = {}
    for spec, orderitem in rows:
        if spec.qty < 1:
            raise ValueError(f"orderitem {orderitem}: qty must be at least 1, got {spec.qty}")
        key = (spec.product, spec.variation)
        if key not in lines:
            lines[key] = _line(spec)
        size = Size(spec.size, spec.size, spec.size)
        lines[key].sizes.append(LineSize(size, spec.qty, orderitem, warehouse))
    order = Order(
        number, market, created, status, customer, list(lines.values()), shipping, steps=[]
    )
    order.transaction = f"SIM-{number}"
    return order


def ship_everything(order: Order, shipment_id: str, created: str) -> None:
    """The shipment Centra may create by itself for a DTC order, of every row, good to go and
    not yet shipped (ERP "Direct-to-Consumer orders: Event", the guide's shipment ``8``)."""
    parts: list[Part] = [(line, row, row.qty) for line in order.lines for row in line.sizes]
    order.shipments.append(
        Shipment(shipment_id, len(order.shipments) + 1, created, parts, order.shipping, ("", ""))
    )
    order.status = "processing"


def _line(spec: OrderRow) -> Line:
    variation = Variation(spec.variation, spec.variation, spec.variation)
    table = SizeTable(spec.product, spec.product, ())
    product = Product(
        spec.product, spec.product, spec.product, "", "", table, spec.price, (variation,)
    )
    return Line(product, variation, spec.price, spec.price, "0.000", [])

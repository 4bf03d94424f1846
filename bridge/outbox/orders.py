"""Order updates from the ERP: short action records, and the rules an ``orders_Update`` must
keep, checked against the local order copy before anything is queued.

The ERP writes what it did (``{"type": "shipment", "order": "30", "id": "30-1", "items":
{"301": 1}, "tracking": "JD01", "carrier": "DHL", "capture": true}``) or a whole ``order``
record shaped like Centra's ``order`` element, with rows named by Centra's ``orderitem`` id.
The bridge fills in what Centra needs and the ERP should not have to know (the order's
``type`` and ``store``, the product, variation and size around each ``orderitem``) and refuses
what Centra would refuse or what would do harm: an order or row it never saw in an event, and
a quantity beyond what is open on a row (on the order, less what is in a shipment,
counting the updates queued but not yet sent and the earlier lines of the same input). As in
Centra's events, a row's quantity is what is still ordered: cancelling lowers it and lists
the cancelled part under ``cancelled``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.handlers.payload import items, plain, quantity, text
from bridge.store import Store
from bridge.store.orders import order_copy, unsent_updates

#: Short records a person can write by hand, each turned into one ``order`` record.
ACTIONS: dict[str, tuple[str, ...]] = {
    "lock": ("order",),
    "confirm": ("order", "lock"),
    "cancel": ("order", "items"),
    "shipment": (
        "order",
        "id",
        "items",
        "shipped",
        "capture",
        "carrier",
        "service",
        "tracking",
        "packages",
        "appendix",
        "shipping",
    ),
    "refund": ("order", "shipment", "id", "items", "comment"),
}


class OrderProblem(ValueError):
    """What is wrong with one order record: the field, and the problem."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.message = message


@dataclass(slots=True)
class Row:
    """One order row (``orderitem``) and how much of it is spoken for."""

    product: str
    variation: str
    size: str
    #: On the order now: what was ordered, less what Centra already cancelled.
    ordered: Decimal
    #: By updates not yet in the order (queued, or earlier in the same input).
    cancelled: Decimal = Decimal(0)
    #: In a shipment (created, shipped or not).
    allocated: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)

    @property
    def open(self) -> Decimal:
        return self.ordered - self.cancelled - self.allocated


@dataclass(slots=True)
class OrderState:
    """An order as the bridge knows it: its copy plus the updates already queued for it."""

    order_id: str
    type: str
    store: str
    rows: dict[str, Row]
    shipments: set[str] = field(default_factory=set)
    refunds: set[str] = field(default_factory=set)


def state_of(
    order_id: str, copy: Mapping[str, Any], unsent: Iterable[Mapping[str, Any]]
) -> OrderState:
    """The order's rows from its copy, with every queued update's rows taken."""
    rows: dict[str, Row] = {}
    for product in items(copy, "products"):
        for size in items(product, "sizes"):
            orderitem = text(size, "orderitem", "id")
            if orderitem:
                rows[orderitem] = Row(
                    text(product, "id"),
                    text(product, "variation", "id"),
                    text(size, "id"),
                    _number(text(size, "qty")),
                )
    state = OrderState(order_id, text(copy, "type"), text(copy, "store"), rows)
    _take(state, copy, cancels=False)
    for update in unsent:
        _take(state, update, cancels=True)
    return state


def _take(state: OrderState, update: Mapping[str, Any], *, cancels: bool) -> None:
    """Count an order's (or a queued update's) shipments and refunds, and a queued update's
    cancellations: in the order itself, a row's quantity is already what is left after
    its cancellations (``cancelled`` only lists them)."""
    for orderitem, qty in _row_quantities(items(update, "cancelled")) if cancels else ():
        if orderitem in state.rows:
            state.rows[orderitem].cancelled += qty
    for shipment in items(update, "shipments"):
        state.shipments.add(text(shipment, "id"))
        for orderitem, qty in _row_quantities(items(shipment, "products")):
            if orderitem in state.rows:
                state.rows[orderitem].allocated += qty
        for refund in items(shipment, "refunds"):
            state.refunds.add(text(refund, "id"))


def _row_quantities(products: list[dict[str, Any]]) -> Iterable[tuple[str, Decimal]]:
    for product in products:
        for size in items(product, "sizes"):
            orderitem = text(size, "orderitem", "id")
            if orderitem:
                yield orderitem, _number(str(size.get("qty", "")))


def _number(value: str) -> Decimal:
    try:
        return quantity(value, "")
    except ValueError:
        return Decimal(0)


def expand_action(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``order`` record a short action record stands for (OrderProblem if it is wrong)."""
    unknown = sorted(set(data) - set(ACTIONS[kind]))
    if unknown:
        valid = ", ".join(ACTIONS[kind])
        raise OrderProblem(unknown[0], f"unknown field for a {kind} record; valid: {valid}")
    order_id = required_id(data, "order")
    if kind == "lock":
        return {"id": order_id, "locked": "yes"}
    if kind == "confirm":
        return {
            "id": order_id,
            "status": "confirmed",
            **({"locked": "yes"} if _flag(data, "lock") else {}),
        }
    if kind == "cancel":
        return {"id": order_id, "cancelled": _item_rows(data)}
    if kind == "shipment":
        return {"id": order_id, "shipments": [_shipment(data)]}
    refund = {"id": required_id(data, "id"), "status": "confirmed", "products": _item_rows(data)}
    if "comment" in data:
        refund["comment"] = data["comment"]
    return {
        "id": order_id,
        "shipments": [{"id": required_id(data, "shipment"), "refunds": [refund]}],
    }


def _shipment(data: Mapping[str, Any]) -> dict[str, Any]:
    shipment: dict[str, Any] = {"id": required_id(data, "id")}
    if "appendix" in data:
        shipment["appendix"] = str(data["appendix"])
    shipment["shipped"] = "yes" if _flag(data, "shipped", default=True) else "no"
    if "items" in data:
        shipment["goodtogo"] = "yes"
    if _flag(data, "capture"):
        shipment["capture"] = "yes"
    carrier = {
        key: str(data[key]) for key in ("carrier", "service", "tracking", "packages") if key in data
    }
    if carrier:
        shipment["carrierinformation"] = carrier
    if "items" in data:
        shipment["products"] = _item_rows(data)
    if "shipping" in data:
        shipment["shipping"] = {"subtotal": str(data["shipping"])}
    return shipment


def _item_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``"items": {"301": 1}`` as rows addressed by orderitem (filled in by ``complete``)."""
    rows = data.get("items")
    if not isinstance(rows, dict) or not rows:
        raise OrderProblem("items", 'required: {"ORDERITEM": QUANTITY, …}, at least one row')
    return [
        {"sizes": [{"qty": qty, "orderitem": {"id": str(orderitem)}}]}
        for orderitem, qty in rows.items()
    ]


def required_id(data: Mapping[str, Any], key: str) -> str:
    """``data[key]`` as an id (a whole number is read as its text), or OrderProblem."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise OrderProblem(key, "required: a non-empty id")
    return value


def _flag(data: Mapping[str, Any], key: str, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise OrderProblem(key, f"must be true or false, got {value!r}")
    return value


def complete(state: OrderState, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as Centra needs them, or OrderProblem; what it takes is counted in ``state``
    so the next record of the same input sees it."""
    out = dict(fields)
    for key, known in (("type", state.type), ("store", state.store)):
        given = out.get(key)
        if given is not None and str(given) != known:
            raise OrderProblem(key, f"order {state.order_id} is {key} {known!r}, not {given!r}")
        out[key] = known
    if "cancelled" in out:
        out["cancelled"] = _rows(state, out["cancelled"], "cancelled", _cancel)
    shipments = []
    for index, shipment in enumerate(items(out, "shipments")):
        shipments.append(_complete_shipment(state, dict(shipment), f"shipments[{index}]"))
    if "shipments" in out:
        out["shipments"] = shipments
    for shipment in shipments:  # the rows were counted as they were checked
        state.shipments.add(text(shipment, "id"))
        state.refunds.update(text(refund, "id") for refund in items(shipment, "refunds"))
    return out


def _complete_shipment(state: OrderState, shipment: dict[str, Any], where: str) -> dict[str, Any]:
    shipment_id = text(shipment, "id")
    if not shipment_id:
        raise OrderProblem(f"{where}.id", "required: the shipment's id")
    if "products" in shipment:
        shipment["products"] = _rows(state, shipment["products"], f"{where}.products", _ship)
    elif shipment_id not in state.shipments:
        raise OrderProblem(
            f"{where}.id",
            f"shipment {shipment_id} is not in order {state.order_id}: create it with its items",
        )
    refunds = []
    for index, refund in enumerate(items(shipment, "refunds")):
        refund = dict(refund)
        refund_where = f"{where}.refunds[{index}]"
        refund_id = text(refund, "id")
        if not refund_id:
            raise OrderProblem(f"{refund_where}.id", "required: a refund id unique in Centra")
        if refund_id in state.refunds:
            raise OrderProblem(f"{refund_where}.id", f"refund {refund_id} exists already")
        refund["products"] = _rows(
            state, refund.get("products"), f"{refund_where}.products", _refund, orderitem=False
        )
        refunds.append(refund)
    if "refunds" in shipment:
        shipment["refunds"] = refunds
    return shipment


Take = Callable[[Row, Decimal], str | None]


def _cancel(row: Row, qty: Decimal) -> str | None:
    if qty > row.open:
        return f"cancels {plain(qty)}, but {_open(row)}"
    row.cancelled += qty
    return None


def _ship(row: Row, qty: Decimal) -> str | None:
    if qty > row.open:
        return f"ships {plain(qty)}, but {_open(row)}"
    row.allocated += qty
    return None


def _refund(row: Row, qty: Decimal) -> str | None:
    left = row.allocated - row.refunded
    if qty > left:
        return f"refunds {plain(qty)}, but {plain(left)} was shipped and not refunded"
    row.refunded += qty
    return None


def _open(row: Row) -> str:
    return (
        f"{plain(row.open)} is open (on the order {plain(row.ordered)}, in shipments "
        f"{plain(row.allocated)}, cancelled by updates not yet sent {plain(row.cancelled)})"
    )


def _rows(
    state: OrderState, value: Any, where: str, take: Take, *, orderitem: bool = True
) -> list[dict[str, Any]]:
    """Rows named by orderitem, checked and counted, grouped by product and variation as
    Centra's samples group them, with the product, variation and size ids filled in."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    products = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    if not products:
        raise OrderProblem(where, "required: at least one row")
    for p_index, product in enumerate(products):
        for s_index, size in enumerate(items(product, "sizes")):
            path = f"{where}[{p_index}].sizes[{s_index}]"
            key = text(size, "orderitem", "id")
            row = state.rows.get(key)
            if row is None:
                known = ", ".join(sorted(state.rows)) or "none"
                raise OrderProblem(
                    f"{path}.orderitem.id",
                    f"{key!r} is not a row of order {state.order_id} (its rows: {known})",
                )
            for name, given, known in (
                ("id", text(product, "id"), row.product),
                ("variation.id", text(product, "variation", "id"), row.variation),
                ("id of the size", text(size, "id"), row.size),
            ):
                if given and given != known:
                    raise OrderProblem(
                        path, f"orderitem {key} is {known!r}, not {given!r} ({name})"
                    )
            qty = _quantity(size.get("qty"), f"{path}.qty")
            problem = take(row, qty)
            if problem is not None:
                raise OrderProblem(f"{path}.qty", f"orderitem {key} {problem}")
            cell: dict[str, Any] = {"id": row.size, "qty": plain(qty)}
            if orderitem:
                cell["orderitem"] = {"id": key}
            grouped.setdefault((row.product, row.variation), []).append(cell)
    return [
        {"id": product, "variation": {"id": variation}, "sizes": sizes}
        for (product, variation), sizes in grouped.items()
    ]


def _quantity(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise OrderProblem(where, f"must be a whole number above 0, got {value!r}")
    try:
        qty = Decimal(str(value))
    except InvalidOperation:
        raise OrderProblem(where, f"must be a whole number above 0, got {value!r}") from None
    if qty <= 0 or qty != qty.to_integral_value():
        raise OrderProblem(where, f"must be a whole number above 0, got {value!r}")
    return qty


class OrderBook:
    """The orders an input's records update, read from the store once each, then kept up to
    date as the input's records take their rows."""

    def __init__(
        self,
        read: Callable[[str], tuple[Mapping[str, Any] | None, list[dict[str, Any]]]],
    ) -> None:
        #: order id → (copy or None, unsent updates); the store's reading, passed in.
        self._read = read
        self._states: dict[str, OrderState | None] = {}

    def complete(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The record checked and filled in, or OrderProblem."""
        order_id = str(fields.get("id", ""))
        if order_id not in self._states:
            copy, unsent = self._read(order_id)
            self._states[order_id] = None if copy is None else state_of(order_id, copy, unsent)
        state = self._states[order_id]
        if state is None:
            raise OrderProblem(
                "id", f"order {order_id} was never seen in an event (or was deleted); not sent"
            )
        return complete(state, fields)


def stock_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """``{"type": "stock", "product": …, "variant": …, "size": …, "warehouse": …, "qty": …}``
    as the ``products_Update`` item that sets it: only ids and ``warehouseitems``."""
    valid = ("product", "variant", "size", "warehouse", "qty")
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise OrderProblem(
            unknown[0], f"unknown field for a stock record; valid: {', '.join(valid)}"
        )
    qty = data.get("qty")
    if (
        isinstance(qty, bool)
        or not isinstance(qty, int | str)
        or not str(qty).lstrip("-").isdigit()
    ):
        raise OrderProblem("qty", f"must be a whole number, got {qty!r}")
    warehouse = {"id": required_id(data, "warehouse"), "qty": str(qty)}
    size = {"id": required_id(data, "size"), "warehouseitems": [warehouse]}
    return {
        "id": required_id(data, "product"),
        "variations": [{"id": required_id(data, "variant"), "sizes": [size]}],
    }


def order_book(store: Store) -> OrderBook:
    """An OrderBook reading the local order copies and queued updates of ``store``."""

    def read(order_id: str) -> tuple[Mapping[str, Any] | None, list[dict[str, Any]]]:
        with store.reading() as session:
            return order_copy(session, order_id), unsent_updates(session, order_id)

    return OrderBook(read)

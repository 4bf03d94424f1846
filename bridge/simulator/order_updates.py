"""What one ``<order>`` of an orders_Update does to an order the simulator knows: lock, status,
partial cancels by orderitem, shipments (create, ship, capture, tracking) and refunds, with the
refusals Centra would give (centra-next.md §1.2 to §1.4). Pure: no I/O, no lock, no clock.

Centra documents no refusal texts (§1.4), so every message here is invented; the rules are the
guide's where it states them (quantities per orderitem, capture once, refund ids unique) and
marked inferred or invented where it does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.simulator.catalog import money
from bridge.simulator.orders import Line, LineSize, Order, Part, Refund, Shipment
from bridge.simulator.soap import Payload

#: Order statuses seen in Centra's SOAP samples (§1.6); a full cancel's value is unknown, so
#: ``cancelled`` is refused rather than guessed.
STATUSES = ("pending", "confirmed", "processing", "completed")
#: The order elements this module acts on; any other is ignored with a notice (invented).
HANDLED = frozenset({"id", "type", "store", "locked", "status", "cancelled", "shipments"})
#: Shipment elements acted on; the rest (totals, addresses…) are Centra's to compute.
SHIPMENT_HANDLED = frozenset(
    {
        "id",
        "paid",
        "shipped",
        "goodtogo",
        "capture",
        "appendix",
        "carrierinformation",
        "products",
        "refunds",
        "shipping",
    }
)

#: (order, shipment, rows) a refund id was first used for: what makes a resent refund the same.
RefundKey = tuple[str, str, tuple[tuple[str, int], ...]]


class Refused(Exception):
    """The order update is refused as a whole; the message goes into the answer's ``errors``."""


@dataclass(frozen=True, slots=True)
class UpdateRules:
    """What an order update depends on beyond the order itself."""

    #: The ``created`` stamp of a new shipment.
    now: Callable[[], str]
    #: Every refund id already used, over all orders.
    refunds: Mapping[str, RefundKey]
    #: Simulated payment provider refusal: a capture that would happen fails instead.
    capture_fails: bool = False


@dataclass(slots=True)
class Applied:
    """What an accepted update left beside the order: notices and the refund ids it used."""

    notices: list[str] = field(default_factory=list)
    refunds: dict[str, RefundKey] = field(default_factory=dict)


def apply_order_update(order: Order, item: Payload, rules: UpdateRules) -> Applied:
    """Apply one ``<order>`` to ``order`` in place, or raise Refused.

    On Refused the order may be half-changed: the caller applies to a copy and keeps it only
    when this returns (one order is all or nothing; invented, Centra's behaviour is unknown).
    """
    applied = Applied()
    name = f"Order {order.number}"
    _check_identity(order, item, name)
    if "locked" in item:
        order.locked = "yes" if _flag(item["locked"], f"{name}: <locked>") else "no"
    if "status" in item:
        order.status = _status(item["status"], name)
    for product, size in _rows(item.get("cancelled"), f"{name}: <cancelled>"):
        line, row, qty = _resolve(order, product, size, name)
        _check_open(order, row, qty, name, "cancel")
        row.qty -= qty
        order.cancelled.append((line, row, qty))
    for shipment_item in _items(item.get("shipments"), "shipment", f"{name}: <shipments>"):
        _apply_shipment(order, shipment_item, rules, applied)
    ignored = [key for key in item if key not in HANDLED]
    if ignored:
        applied.notices.append(
            f"{name}: not modelled by the simulator, ignored: {', '.join(ignored)}"
        )
    return applied


def _check_identity(order: Order, item: Payload, name: str) -> None:
    """``type`` and ``store`` come with every cookbook write-back (§1.1) and must be the order's."""
    for key, expected in (("type", order.market.type), ("store", str(order.market.store))):
        sent = item.get(key)
        if sent is None:
            raise Refused(f"{name}: <{key}> is required (the order's is {expected})")
        if str(sent).strip() != expected:
            raise Refused(f"{name}: <{key}> {sent!r} does not match the order's {expected!r}")


def _apply_shipment(order: Order, item: Any, rules: UpdateRules, applied: Applied) -> None:
    name = f"Order {order.number}"
    if not isinstance(item, dict) or not str(item.get("id", "")).strip():
        raise Refused(f"{name}: a <shipment> without <id>")
    shipment_id = str(item["id"]).strip()
    where = f"{name} shipment {shipment_id}"
    shipment = find_shipment(order, shipment_id)
    rows = [_resolve(order, p, s, name) for p, s in _rows(item.get("products"), where)]
    if shipment is None:
        shipment = _new_shipment(order, shipment_id, item, rows, rules, where)
    elif rows and _quantities(rows) != _quantities(shipment.parts):
        # Invented: whether Centra lets rows of an existing shipment change is not documented.
        raise Refused(f"{where}: already holds other rows; a shipment's rows cannot be changed")
    if "goodtogo" in item:
        shipment.goodtogo = _flag(item["goodtogo"], f"{where}: <goodtogo>")
    if "paid" in item:
        shipment.paid = _flag(item["paid"], f"{where}: <paid>")
    if "shipping" in item:
        shipment.shipping = _shipping(item["shipping"], where)
    if "carrierinformation" in item:
        _carrier(shipment, item["carrierinformation"], where)
    if "shipped" in item:
        _ship(shipment, _flag(item["shipped"], f"{where}: <shipped>"), where, applied)
    if "capture" in item and _flag(item["capture"], f"{where}: <capture>"):
        _capture(order, shipment, rules, where)
    for refund in _items(item.get("refunds"), "refund", f"{where}: <refunds>"):
        _refund(order, shipment, refund, rules, applied, where)
    ignored = [key for key in item if key not in SHIPMENT_HANDLED]
    if ignored:
        applied.notices.append(
            f"{where}: not modelled by the simulator, ignored: {', '.join(ignored)}"
        )


def find_shipment(order: Order, shipment_id: str) -> Shipment | None:
    """The shipment by its id, or by ``<order>-<appendix>``: the guide's refund addresses the
    DTC shipment ``8`` as ``30-1`` (U10), so both names are accepted."""
    for shipment in order.shipments:
        if shipment.id == shipment_id:
            return shipment
    prefix, _, appendix = shipment_id.rpartition("-")
    if prefix == order.number and appendix.isdigit():
        return next((s for s in order.shipments if s.appendix == int(appendix)), None)
    return None


def _new_shipment(
    order: Order, shipment_id: str, item: Payload, rows: list[Part], rules: UpdateRules, where: str
) -> Shipment:
    """A shipment the ERP creates, with the id it chose and the rows it names (§1.2)."""
    if not rows:
        # Invented: an empty shipment is not described by Centra.
        raise Refused(f"{where}: a new shipment needs <products> with rows")
    # Rows of one request count together: two rows for one orderitem may not pass it each alone.
    wanted: Counter[str] = Counter()
    for _, row, qty in rows:
        wanted[row.orderitem] += qty
        _check_open(order, row, wanted[row.orderitem], f"Order {order.number}", "ship")
    appendix = _whole(item["appendix"], f"{where}: <appendix>") if "appendix" in item else None
    shipment = Shipment(
        shipment_id,
        appendix if appendix is not None else len(order.shipments) + 1,
        rules.now(),
        rows,
        # The guide: a shipment without <shipping> has no shipping cost (§1.2).
        Decimal(0),
        ("", ""),
        # Inferred: a shipment not said to be good to go is not (the cookbook always says yes).
        goodtogo=False,
    )
    order.shipments.append(shipment)
    return shipment


def _ship(shipment: Shipment, shipped: bool, where: str, applied: Applied) -> None:
    if shipped:
        shipment.shipped = True
    elif shipment.shipped:
        # Invented: un-shipping is not described; a resent creation after shipping is harmless.
        applied.notices.append(f"{where}: already shipped; <shipped>no</shipped> has no effect")


def _capture(order: Order, shipment: Shipment, rules: UpdateRules, where: str) -> None:
    """``capture=yes`` captures the authorised payment once; "If its not possible or the order
    has already been captured it has no effect" (ERP "Important: Capture").

    Not possible: an invoice (wholesale) order. The amount captured is the order's total at that
    moment (inferred; a PSP may capture per shipment).
    """
    if not order.retail or order.captures:
        return
    if rules.capture_fails:
        # Invented wording; the switch stands for a PSP refusing (GQLDTC "failed capture").
        raise Refused(f"{where}: capture failed: the payment provider refused it (simulated)")
    order.captures.append(
        {
            "type": "capture",
            "paid": "yes",
            "value": money(order.total),
            "created": rules.now(),
            "transaction": order.transaction,
            "document": "",
        }
    )
    shipment.paid = True


def _refund(
    order: Order,
    shipment: Shipment,
    item: Any,
    rules: UpdateRules,
    applied: Applied,
    where: str,
) -> None:
    """A return of shipped rows, addressed by product/variation/size as in the guide's sample
    (no orderitem there; one is honoured when sent). Refund ids are global (§1.2)."""
    if not isinstance(item, dict) or not str(item.get("id", "")).strip():
        raise Refused(f"{where}: a <refund> without <id>")
    refund_id = str(item["id"]).strip()
    if not shipment.shipped:
        # Invented: returning what never left is refused.
        raise Refused(f"{where}: refund {refund_id}: the shipment is not shipped")
    parts = [
        _refund_part(shipment, p, s, f"{where}: refund {refund_id}")
        for p, s in _rows(item.get("products"), f"{where}: refund {refund_id}")
    ]
    key: RefundKey = (order.number, shipment.id, tuple(sorted(_quantities(parts).items())))
    used = rules.refunds.get(refund_id) or applied.refunds.get(refund_id)
    if used == key:
        applied.notices.append(f"{where}: refund {refund_id} is already recorded; no change")
        return
    if used is not None:
        raise Refused(f"Refund id {refund_id} is already used for another refund")
    refunded: Counter[str] = Counter()
    for refund in shipment.refunds:
        refunded.update(_quantities(refund.parts))
    in_shipment = _quantities(shipment.parts)
    for _, row, qty in parts:
        refunded[row.orderitem] += qty
        if refunded[row.orderitem] > in_shipment[row.orderitem]:
            left = in_shipment[row.orderitem] - refunded[row.orderitem] + qty
            raise Refused(
                f"{where}: refund {refund_id}: orderitem {row.orderitem} has {left} left "
                f"to refund, not {qty}"
            )
    shipment.refunds.append(Refund(refund_id, str(item.get("status", "")), parts))
    applied.refunds[refund_id] = key


def _refund_part(shipment: Shipment, product: Payload, size: Payload, where: str) -> Part:
    """The shipment's row a refund row names: by orderitem if sent, else by its ids."""
    pid, vid, sid = _ids(product, size)
    orderitem = _orderitem(size)
    qty = _quantity(size, where)
    for line, row, _ in shipment.parts:
        if orderitem is not None and row.orderitem != orderitem:
            continue
        if _matches(line, row, pid, vid, sid):
            return line, row, qty
    named = orderitem or "/".join(filter(None, (pid, vid, sid)))
    raise Refused(f"{where}: the shipment holds no {named}")


def _carrier(shipment: Shipment, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise Refused(f"{where}: <carrierinformation> must hold carrier, service, tracking…")
    carrier, service = shipment.carrier
    shipment.carrier = (
        str(value.get("carrier", carrier)),
        str(value.get("service", service)),
    )
    shipment.tracking = str(value.get("tracking", shipment.tracking))


def _shipping(value: Any, where: str) -> Decimal:
    subtotal = value.get("subtotal", "0") if isinstance(value, dict) else value
    try:
        amount = Decimal(str(subtotal).strip() or "0")
    except InvalidOperation:
        raise Refused(f"{where}: <shipping><subtotal> {subtotal!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise Refused(f"{where}: <shipping><subtotal> {subtotal!r} is not an amount")
    return amount


# -- rows -------------------------------------------------------------------------------------


def _rows(value: Any, where: str) -> list[tuple[Payload, Payload]]:
    """(product, size) pairs of an OrderLines container (``products`` or ``cancelled``)."""
    pairs: list[tuple[Payload, Payload]] = []
    for product in _items(value, "product", where):
        if not isinstance(product, dict):
            raise Refused(f"{where}: a <product> without <id> and <sizes>")
        for size in _items(product.get("sizes"), "size", f"{where}: <sizes>"):
            if not isinstance(size, dict):
                raise Refused(f"{where}: a <size> without <qty>")
            pairs.append((product, size))
    return pairs


def _items(value: Any, name: str, where: str) -> list[Any]:
    """The repeated ``name`` items of a wrapper as ``soap.to_data`` reads it ("" when empty)."""
    if value is None or value == "":
        return []
    if not isinstance(value, dict) or set(value) - {name}:
        raise Refused(f"{where}: expected <{name}> items only")
    items = value.get(name, [])
    return items if isinstance(items, list) else [items]


def _resolve(order: Order, product: Payload, size: Payload, name: str) -> Part:
    """The order row a request row names by its orderitem, checked against its ids (§1.1)."""
    orderitem = _orderitem(size)
    if orderitem is None:
        raise Refused(f"{name}: a row without <orderitem><id>; rows are addressed by orderitem")
    for line in order.lines:
        for row in line.sizes:
            if row.orderitem == orderitem:
                pid, vid, sid = _ids(product, size)
                if not _matches(line, row, pid, vid, sid):
                    sent = "/".join(part or "?" for part in (pid, vid, sid))
                    actual = f"{line.product.id}/{line.variation.id}/{row.size.id}"
                    raise Refused(f"{name}: orderitem {orderitem} is {actual}, not {sent}")
                return line, row, _quantity(size, f"{name}: orderitem {orderitem}")
    raise Refused(f"{name}: unknown orderitem {orderitem}")


def _matches(line: Line, row: LineSize, pid: str | None, vid: str | None, sid: str | None) -> bool:
    """Whether the ids sent (None: not sent) are those of the row."""
    return (
        pid in (None, line.product.id)
        and vid in (None, line.variation.id)
        and sid in (None, row.size.id)
    )


def _ids(product: Payload, size: Payload) -> tuple[str | None, str | None, str | None]:
    variation = product.get("variation")
    vid = variation.get("id") if isinstance(variation, dict) else None
    return _text(product.get("id")), _text(vid), _text(size.get("id"))


def _orderitem(size: Payload) -> str | None:
    orderitem = size.get("orderitem")
    return _text(orderitem.get("id")) if isinstance(orderitem, dict) else None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _quantity(size: Payload, where: str) -> int:
    qty = _whole(size.get("qty", ""), f"{where}: <qty>")
    if qty < 1:
        raise Refused(f"{where}: <qty> must be at least 1, got {qty}")
    return qty


def _check_open(order: Order, row: LineSize, qty: int, name: str, verb: str) -> None:
    """Open = ordered - cancelled - already in shipments (§1.3; the check is inferred)."""
    left = open_quantity(order, row)
    if qty > left:
        raise Refused(f"{name}: cannot {verb} {qty} of orderitem {row.orderitem}: {left} open")


def open_quantity(order: Order, row: LineSize) -> int:
    """What of a row is neither cancelled nor in a shipment (``row.qty`` is net of cancels)."""
    in_shipments = sum(q for s in order.shipments for _, r, q in s.parts if r is row)
    return row.qty - in_shipments


def _quantities(parts: list[Part]) -> Counter[str]:
    """Quantity per orderitem."""
    counts: Counter[str] = Counter()
    for _, row, qty in parts:
        counts[row.orderitem] += qty
    return counts


# -- values -----------------------------------------------------------------------------------


def _flag(value: Any, where: str) -> bool:
    text = value.strip() if isinstance(value, str) else value
    if text not in ("yes", "no"):
        raise Refused(f"{where} must be yes or no, got {value!r}")
    return bool(text == "yes")


def _status(value: Any, name: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text not in STATUSES:
        raise Refused(f"{name}: <status> {value!r} is not one of {', '.join(STATUSES)}")
    return text


def _whole(value: Any, where: str) -> int:
    text = value.strip() if isinstance(value, str) else ""
    if not text.isdigit():
        raise Refused(f"{where} must be a whole number, got {value!r}")
    return int(text)

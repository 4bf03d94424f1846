"""Echo suppression, pure: does a Centra event only show back what the bridge pushed?

A push to Centra makes Centra emit an event for the same object. Delivering it to the ERP
would hand the ERP its own update (and, with an ERP that pushes what changes, start a loop).
The rule, on flattened fields (``variations[id=V1].sizes[id=S].qty``; the top-level ``id`` is
left out, as it differs between the ERP's and Centra's view):

* the *expected* fields are those of the pushes to this object whose echo was not seen yet,
  later pushes overriding earlier ones;
* the event *reflects* the pushes when at least one expected field is in it and every expected
  field it carries has the pushed value;
* the event is an *echo* when it reflects the pushes and every field that differs from the
  object's previous state (the last event for it; none known: every field) is an expected one.

An echo is stored, acknowledged and kept in the local copy, but not delivered. Any other change
in the event, or a pushed field with another value, makes it an ordinary event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any


def flatten(payload: Mapping[str, Any]) -> dict[str, str]:
    """Leaf paths → text as Centra writes it (lists of objects with ids keyed by id)."""
    out: dict[str, str] = {}
    for key, value in payload.items():
        if key != "id":
            _flatten(value, key, out)
    return out


def _flatten(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out[path] = ""
        for key, sub in value.items():
            _flatten(sub, f"{path}.{key}", out)
    elif isinstance(value, list):
        if not value:
            out[path] = ""
        keyed = all(isinstance(item, Mapping) and isinstance(item.get("id"), str) for item in value)
        for index, item in enumerate(value):
            _flatten(item, f"{path}[id={item['id']}]" if keyed else f"{path}[{index}]", out)
    elif value is not None:
        out[path] = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def expected_fields(pushed: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The fields of these pushes (oldest first), later values winning."""
    expected: dict[str, str] = {}
    for fields in pushed:
        expected.update(flatten(fields))
    return expected


def reflects(event: Mapping[str, Any], expected: Mapping[str, str]) -> bool:
    """The event shows at least one pushed field, and each pushed field it shows as pushed."""
    current = flatten(event)
    shown = [path for path in expected if path in current]
    return bool(shown) and all(current[path] == expected[path] for path in shown)


def order_consequences(pushed: Iterable[Mapping[str, Any]]) -> set[str]:
    """What Centra derives from these order updates of the bridge's, as paths whose subtrees
    belong to them: the content of a shipment they created and the order's carrier
    information, the rows, totals and payment amounts a cancellation lowers, the payments a
    capture or refund records. A change anywhere else is Centra's own."""
    owned: set[str] = set()
    for fields in pushed:
        for shipment in _dicts(fields.get("shipments")):
            if "products" in shipment:
                owned |= {"shipments", f"shipments[id={shipment.get('id')}]"}
            if "products" in shipment or "carrierinformation" in shipment:
                owned.add("carrierinformation")
            if shipment.get("capture") == "yes" or "refunds" in shipment:
                owned.add("payments")
            if "refunds" in shipment:
                owned.add(f"shipments[id={shipment.get('id')}].refunds")
        cancelled = _dicts(fields.get("cancelled"))
        if cancelled:
            owned |= {"cancelled", "ordertotal", "payments.total", "payments.payment"}
            owned |= {f"products[id={product.get('id')}]" for product in cancelled}
    return owned


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


def is_echo(
    event: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    expected: Mapping[str, str],
    owned: Iterable[str] = (),
) -> bool:
    """True when the event changes nothing but the pushed fields, to their pushed values,
    and what lies within the subtrees the pushes ``owned`` (see ``order_consequences``)."""
    if not reflects(event, expected):
        return False
    current = flatten(event)
    before = flatten(previous) if previous is not None else {}
    changed = {
        path
        for path in current.keys() | before.keys()
        if previous is None or current.get(path) != before.get(path)
    }
    roots = set(owned)
    within = tuple(f"{root}{step}" for root in roots for step in (".", "["))
    return all(path in expected or path in roots or path.startswith(within) for path in changed)

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


def created_subtrees(pushed: Iterable[Mapping[str, Any]]) -> set[str]:
    """The shipments these order pushes created (they carried rows): whatever Centra fills in
    within one (its dates, totals) is part of the push, not a change of Centra's own."""
    return {
        f"shipments[id={shipment['id']}]"
        for fields in pushed
        for shipment in fields.get("shipments", [])
        if isinstance(shipment, Mapping) and "products" in shipment and "id" in shipment
    }


def is_echo(
    event: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    expected: Mapping[str, str],
    created: Iterable[str] = (),
) -> bool:
    """True when the event changes nothing but the pushed fields, to their pushed values,
    and what lies within the objects the pushes ``created``."""
    if not reflects(event, expected):
        return False
    current = flatten(event)
    before = flatten(previous) if previous is not None else {}
    changed = {
        path
        for path in current.keys() | before.keys()
        if previous is None or current.get(path) != before.get(path)
    }
    within = tuple(f"{root}{step}" for root in created for step in (".", "["))
    return all(path in expected or path.startswith(within) for path in changed)

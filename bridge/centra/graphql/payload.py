"""A GraphQL event's object → the transport-neutral payload the SOAP decoder produces.

Handlers read ``ordernumber``, ``products/sizes/orderitem``, ``shipments``, ``customer/id``…
as Centra's SOAP order carries them (centra-soap.md §5); this module writes a GraphQL
``Order`` (``Customer``, ``Product``) in that shape, text everywhere, so the built-in
handlers, sinks, echo suppression and custom handlers run unchanged. Objects of other types
are kept as Centra sent them, values as text. Pure: JSON in, dicts out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bridge.centra.port import Payload

#: Keys whose value is a secret, masked wherever they appear in what is stored.
SECRET_KEYS = frozenset({"password"})
MASK = "********"
DIRECT_TO_CONSUMER = "DIRECT_TO_CONSUMER"


def mask(value: Any) -> Any:
    """``value`` with every secret key's value masked, at any depth."""
    if isinstance(value, dict):
        return {
            key: MASK if key in SECRET_KEYS and item not in (None, "") else mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def mask_raw(raw: bytes) -> bytes:
    """An answer's body with its secrets masked; most hold none and are kept byte for byte."""
    if not any(f'"{key}"'.encode() in raw for key in SECRET_KEYS):
        return raw
    return json.dumps(mask(json.loads(raw)), ensure_ascii=False).encode()


def payload_of(object_type: str, obj: dict[str, Any]) -> Payload:
    """The neutral payload of one event's ``object``."""
    decode = _DECODERS.get(object_type)
    if decode is not None:
        return decode(obj)
    value = _as_text(obj)
    return value if isinstance(value, dict) else {}


def _order(o: dict[str, Any]) -> Payload:
    store = o.get("store") or {}
    retail = store.get("type") == DIRECT_TO_CONSUMER
    payload: Payload = {"id": _text(o.get("number"))}
    if retail:
        payload["ordernumber"] = _text(o.get("number"))
    payload |= {
        "type": "retail" if retail else "wholesale",
        "store": _text(store.get("id")),
        "locked": "yes" if o.get("isLocked") else "no",
        "status": _text(o.get("status")).lower(),
    }
    total = o.get("grandTotal")
    if total:
        payload["ordertotal"] = _money(total)
    payload |= {"currency": _text(o.get("currencyIsoCode")), "created": _text(o.get("createdAt"))}
    lines = o.get("lines") or []
    payload["products"] = [_line(line, _text(line.get("quantity"))) for line in lines]
    payload["cancelled"] = [
        _line(line, _text(line.get("cancelledQuantity")))
        for line in lines
        if line.get("cancelledQuantity")
    ]
    by_id = {line.get("id"): line for line in lines}
    payload["shipments"] = [_shipment(s, by_id) for s in o.get("shipments") or []]
    for party in ("customer", "account", "market"):
        if o.get(party):
            payload[party] = {"id": _text(o[party].get("id"))}
    for kind in ("shipping", "billing"):
        address = o.get(f"{kind}Address")
        if address:
            payload[f"{kind}address"] = _address(address)
    return payload


def _line(line: dict[str, Any], qty: str) -> Payload:
    """One order line (a size row over GraphQL) as a SOAP order product with one size."""
    product, variant = line.get("product") or {}, line.get("productVariant") or {}
    size = line.get("size") or {}
    return {
        "id": _text(product.get("id")),
        "sku": _text(line.get("sku")),
        "price": _money(line.get("unitPrice") or {}),
        "qty": qty,
        "description": _text(product.get("name")),
        "variation": {"id": _text(variant.get("id")), "description": _text(variant.get("name"))},
        "sizes": [
            {
                "id": _text(size.get("id")),
                "sku": _text(line.get("sku")),
                "qty": qty,
                "description": _text(size.get("name")),
                "orderitem": {"id": _text(line.get("id"))},
            }
        ],
    }


def _shipment(s: dict[str, Any], lines: dict[Any, dict[str, Any]]) -> Payload:
    info = s.get("shipmentInfo") or {}
    payload: Payload = {
        "id": _text(s.get("number")),
        "paid": "yes" if s.get("isPaid") else "no",
        "shipped": "yes" if s.get("isShipped") else "no",
        "created": _text(s.get("createdAt")),
    }
    if s.get("isShipped"):
        payload["carrierinformation"] = {
            "carrier": _text(info.get("carrier")),
            "service": _text(info.get("service")),
            "tracking": _text(info.get("trackingNumber")),
        }
    payload["products"] = [
        _line(lines.get(ref) or {"id": ref}, _text(part.get("quantity")))
        for part in s.get("lines") or []
        for ref in [(part.get("orderLine") or {}).get("id")]
    ]
    return payload


def _customer(c: dict[str, Any]) -> Payload:
    address = c.get("billingAddress") or {}
    return {
        "id": _text(c.get("id")),
        "status": _text(c.get("status")).lower(),
        "firstname": _text(c.get("firstName")),
        "lastname": _text(c.get("lastName")),
        "email": _text(c.get("email")),
        "country": _text((address.get("country") or {}).get("code")),
    }


def _product(p: dict[str, Any]) -> Payload:
    return {
        "id": _text(p.get("id")),
        "sku": _text(p.get("productNumber")),
        "description": _text(p.get("name")),
        "status": _text(p.get("status")).lower(),
    }


def _address(a: dict[str, Any]) -> Payload:
    return {
        "firstname": _text(a.get("firstName")),
        "lastname": _text(a.get("lastName")),
        "address1": _text(a.get("address1")),
        "address2": _text(a.get("address2")),
        "city": _text(a.get("city")),
        "zipcode": _text(a.get("zipCode")),
        "country": _text((a.get("country") or {}).get("code")),
        "email": _text(a.get("email")),
        "phone": _text(a.get("phoneNumber")),
    }


def _as_text(value: Any) -> Any:
    """Any other object as Centra sent it, scalars as text (as SOAP payloads are)."""
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items() if key != "__typename"}
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return _text(value)


def _money(value: dict[str, Any]) -> str:
    amount = value.get("value")
    if amount is None:
        return ""
    return str(Decimal(str(amount)).quantize(Decimal("0.01")))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_DECODERS: dict[str, Callable[[dict[str, Any]], Payload]] = {
    "Order": _order,
    "Customer": _customer,
    "Product": _product,
}

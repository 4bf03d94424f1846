"""The generator's SOAP-shaped payloads as the GraphQL objects the double serves.

The same seeded stream feeds both doubles, so a SOAP run and a GraphQL run see equivalent
data (one source of truth for what an order is). Pure: dicts in, dicts out.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bridge.centra.graphql.kinds import object_type
from bridge.simulator.graphql_schema import LOOKED_UP
from bridge.simulator.soap import Payload


def graphql_type(soap_type: str) -> str:
    """``order`` → ``Order``; a kind Centra's GraphQL API does not list keeps its name."""
    return object_type(soap_type) or soap_type.capitalize()


def graphql_object(kind: str, payload: Payload) -> dict[str, Any]:
    """One object of type ``kind`` as ``Event.object`` shows it."""
    if kind == "Order":
        return _order(payload)
    if kind == "Customer":
        return _customer(payload)
    if kind == "Product":
        return {
            "__typename": "Product",
            "id": payload.get("id"),
            "name": payload.get("description"),
            "status": str(payload.get("status") or "").upper(),
            "productNumber": payload.get("sku"),
        }
    assert kind not in LOOKED_UP
    return {"__typename": "OtherObject", "id": payload.get("id")}


def _order(p: Payload) -> dict[str, Any]:
    retail = p.get("type") == "retail"
    currency = str(p.get("currency") or "")
    cancelled = {
        _text(size, "orderitem", "id"): int(size.get("qty") or 0)
        for product in _items(p, "cancelled", "product")
        for size in _items(product, "sizes", "size")
    }
    lines = [
        {
            "id": _text(size, "orderitem", "id"),
            "quantity": int(size.get("qty") or 0),
            "cancelledQuantity": cancelled.get(_text(size, "orderitem", "id"), 0),
            "sku": size.get("sku"),
            "product": {"id": product.get("id"), "name": product.get("description")},
            "productVariant": {
                "id": _text(product, "variation", "id"),
                "name": _text(product, "variation", "description"),
            },
            "size": {"id": size.get("id"), "name": size.get("description")},
            "unitPrice": _money(product.get("price"), currency),
        }
        for product in _items(p, "products", "product")
        for size in _items(product, "sizes", "size")
    ]
    order: dict[str, Any] = {
        "__typename": "Order",
        "id": hashlib.md5(str(p.get("id")).encode(), usedforsecurity=False).hexdigest(),
        "number": int(str(p.get("id"))),
        "status": str(p.get("status") or "").upper(),
        "isLocked": p.get("locked") == "yes",
        "createdAt": p.get("created"),
        "store": {"id": int(str(p.get("store") or 0)), "type": _store_type(retail)},
        "market": {"id": _text(p, "market", "id")} if _text(p, "market", "id") else None,
        "currencyIsoCode": currency,
        "grandTotal": _money(p.get("ordertotal"), currency),
        "customer": {"id": _text(p, "customer", "id")} if retail else None,
        "account": {"id": _text(p, "account", "id")} if _text(p, "account", "id") else None,
        "lines": lines,
        "shipments": [
            _shipment(position, s) for position, s in enumerate(_items(p, "shipments", "shipment"))
        ],
        "shippingAddress": _address(p.get("shippingaddress")),
        "billingAddress": _address(p.get("billingaddress")),
    }
    return order


def _shipment(position: int, s: Payload) -> dict[str, Any]:
    carrier = s.get("carrierinformation") or {}
    return {
        "id": position + 1,
        "number": s.get("id"),
        "isShipped": s.get("shipped") == "yes",
        "isPaid": s.get("paid") == "yes",
        "createdAt": s.get("created"),
        "shipmentInfo": {
            "carrier": carrier.get("carrier"),
            "service": carrier.get("service"),
            "trackingNumber": carrier.get("tracking"),
        }
        if carrier
        else None,
        "lines": [
            {
                "quantity": int(size.get("qty") or 0),
                "orderLine": {"id": _text(size, "orderitem", "id")},
            }
            for product in _items(s, "products", "product")
            for size in _items(product, "sizes", "size")
        ],
    }


def _customer(p: Payload) -> dict[str, Any]:
    return {
        "__typename": "Customer",
        "id": p.get("id"),
        "email": p.get("email"),
        "firstName": p.get("firstname"),
        "lastName": p.get("lastname"),
        "status": str(p.get("status") or "").upper(),
        "billingAddress": {"country": {"code": p.get("country")}} if p.get("country") else None,
    }


def _address(a: Any) -> dict[str, Any] | None:
    if not isinstance(a, dict):
        return None
    return {
        "firstName": a.get("firstname"),
        "lastName": a.get("lastname"),
        "address1": a.get("address1"),
        "address2": a.get("address2"),
        "city": a.get("city"),
        "zipCode": a.get("zipcode"),
        "country": {"code": a.get("country")} if a.get("country") else None,
        "email": a.get("email"),
        "phoneNumber": a.get("phone"),
    }


def _store_type(retail: bool) -> str:
    return "DIRECT_TO_CONSUMER" if retail else "WHOLESALE"


def _money(amount: Any, currency: str) -> dict[str, Any] | None:
    if amount in (None, ""):
        return None
    return {"value": float(str(amount)), "currencyIsoCode": currency}


def _items(data: Any, wrapper: str, item: str) -> list[Payload]:
    """``data[wrapper][item]`` as a list of dicts, however the payload spelled it."""
    found = data.get(wrapper) if isinstance(data, dict) else None
    if isinstance(found, dict):
        found = found.get(item)
    if isinstance(found, dict):
        found = [found]
    return [x for x in found or [] if isinstance(x, dict)]


def _text(data: Any, *path: str) -> str:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) else ""

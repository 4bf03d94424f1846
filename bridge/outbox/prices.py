"""Prices from the ERP: ``pricelists_Update`` at product or variation level (Centra keeps no
price per size), with the products named by the ERP's ids and translated through the id map.

A person writes one price a line (``{"type": "price", "pricelist": "EUR-Retail", "product":
"T001", "variation": "T001_RED", "price": "123"}``); an ERP may write a whole ``pricelist``
record shaped like Centra's element, with the pricelist's own type as ``pricelist_type``
(``type`` names the record).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.outbox.id_rules import KnownIds
from bridge.outbox.orders import OrderProblem, required_id

#: Price fields Centra takes for a product or a variation.
PRICE_FIELDS = ("price", "priceb", "alteredprice", "alteredpriceb")
_PRICE_KEYS = ("pricelist", "product", "variation", *PRICE_FIELDS)


def price_record(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``pricelist`` record a one-price line stands for (OrderProblem if it is wrong)."""
    unknown = sorted(set(data) - set(_PRICE_KEYS))
    if unknown:
        valid = ", ".join(_PRICE_KEYS)
        raise OrderProblem(unknown[0], f"unknown field for a price record; valid: {valid}")
    prices = {key: _price(data[key], key) for key in PRICE_FIELDS if key in data}
    if not prices:
        raise OrderProblem("price", f"required: at least one of {', '.join(PRICE_FIELDS)}")
    product: dict[str, Any] = {"id": required_id(data, "product")}
    if "variation" in data:
        product["variation"] = [{"id": required_id(data, "variation"), **prices}]
    else:
        product.update(prices)
    return {"id": required_id(data, "pricelist"), "items": {"product": [product]}}


def pricelist_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A whole ``pricelist`` record's fields as Centra names them (``pricelist_type`` → type)."""
    if "pricelist_type" in data:
        data["type"] = data.pop("pricelist_type")
    return data


def product_ids(fields: Mapping[str, Any]) -> list[str]:
    """The ERP product ids a pricelist record names."""
    return [product["id"] for product in _products(fields) if isinstance(product.get("id"), str)]


def with_centra_products(fields: Mapping[str, Any], known: KnownIds) -> dict[str, Any]:
    """The record with each product id translated through the id map (IdConflict when one
    cannot be, as for a product's own update)."""
    items = dict(fields.get("items") or {})
    items["product"] = [
        {**product, "id": known.translate(product["id"])[0]} for product in _products(fields)
    ]
    return {**fields, "items": items}


def _products(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = fields.get("items")
    products = items.get("product") if isinstance(items, Mapping) else None
    if isinstance(products, dict):
        products = [products]
    return [p for p in products or [] if isinstance(p, dict)]


def _price(value: Any, key: str) -> str:
    text = (
        str(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else ""
    )
    try:
        float(text)
    except ValueError:
        raise OrderProblem(key, f"must be a price (a number), got {value!r}") from None
    return text

"""Keeps the ERP-facing copy of each order: header, one line per size row, shipments.

Every order event carries the whole order, so the copy is rebuilt from it; shipments and
cancellations arrive as later events of the same order and show up in the lines' quantities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copy
from bridge.handlers.payload import items, plain, quantity, text
from bridge.store.models import Order, OrderLine, OrderShipment

Row = TypeVar("Row", OrderLine, OrderShipment)


def handle_order(session: Session, event: EventRecord) -> Outcome:
    return keep_copy(session, Order, event, _fill)


def _fill(order: Order, data: dict[str, Any]) -> None:
    _copy_header(order, data)
    _sync_lines(order, _lines(data, order.order_id))
    _sync_shipments(order, data)


def _copy_header(order: Order, data: dict[str, Any]) -> None:
    order.ordernumber = text(data, "ordernumber")
    order.order_type = text(data, "type")
    order.store = text(data, "store")
    order.status = text(data, "status")
    order.currency = text(data, "currency")
    order.ordertotal = text(data, "ordertotal")
    order.created = text(data, "created")
    order.customer_id = text(data, "customer", "id")
    order.account_id = text(data, "account", "id")
    order.market_id = text(data, "market", "id")
    order.locked = text(data, "locked")


def _line_key(product: dict[str, Any], size: dict[str, Any]) -> str:
    """Centra's order-item id addresses a row; without one, product/variation/size does."""
    return text(size, "orderitem", "id") or "/".join(
        (text(product, "id"), text(product, "variation", "id"), text(size, "id"))
    )


def _quantities(lines: list[dict[str, Any]], where: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for product in lines:
        for size in items(product, "sizes"):
            totals[_line_key(product, size)] += quantity(text(size, "qty"), where)
    return totals


def _lines(data: dict[str, Any], order_id: str) -> dict[str, dict[str, str]]:
    where = f"order {order_id}"
    cancelled = _quantities(items(data, "cancelled"), f"{where} cancelled")
    shipped = _quantities(
        [
            line
            for shipment in items(data, "shipments")
            if text(shipment, "shipped") == "yes"
            for line in items(shipment, "products")
        ],
        f"{where} shipments",
    )
    lines: dict[str, dict[str, str]] = {}
    for product in items(data, "products"):
        for size in items(product, "sizes"):
            key = _line_key(product, size)
            if key in lines:
                raise ValueError(f"{where}: two order rows share the key {key!r}; neither is kept")
            lines[key] = {
                "product_id": text(product, "id"),
                "variation_id": text(product, "variation", "id"),
                "size_id": text(size, "id"),
                "sku": text(size, "sku") or text(product, "sku"),
                "description": text(product, "description"),
                "qty": plain(quantity(text(size, "qty"), f"{where} line {key}")),
                "price": text(product, "price"),
                "qty_cancelled": plain(cancelled.get(key, Decimal(0))),
                "qty_shipped": plain(shipped.get(key, Decimal(0))),
            }
    return lines


def _sync_lines(order: Order, lines: dict[str, dict[str, str]]) -> None:
    _sync(order.lines, lines, "line_key", OrderLine)


def _sync_shipments(order: Order, data: dict[str, Any]) -> None:
    wanted = {
        text(shipment, "id"): {
            "shipped": text(shipment, "shipped"),
            "paid": text(shipment, "paid"),
            "created": text(shipment, "created"),
            "carrier": text(shipment, "carrierinformation", "carrier"),
            "tracking": text(shipment, "carrierinformation", "tracking"),
        }
        for shipment in items(data, "shipments")
        if text(shipment, "id")
    }
    _sync(order.shipments, wanted, "shipment_id", OrderShipment)


def _sync(
    rows: list[Row], wanted: dict[str, dict[str, str]], key: str, make: Callable[..., Row]
) -> None:
    """Make ``rows`` match ``wanted`` (key → values), updating rows in place by key.

    In place, because deleting a row and inserting one with the same key in one flush
    would break the unique constraint on the key.
    """
    existing = {getattr(row, key): row for row in rows}
    for value, fields in wanted.items():
        row = existing.get(value)
        if row is None:
            rows.append(make(**{key: value}, **fields))
        else:
            for name, field_value in fields.items():
                setattr(row, name, field_value)
    rows[:] = [row for row in rows if getattr(row, key) in wanted]

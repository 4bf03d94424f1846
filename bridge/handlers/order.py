"""Keeps the ERP-facing copy of each order: header, one line per size row, shipments.

Every order event carries the whole order, so the copy is rebuilt from it; shipments and
cancellations arrive as later events of the same order and show up in the lines' quantities.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copy
from bridge.handlers.payload import items, plain, quantity, text
from bridge.store.models import Order, OrderLine, OrderShipment


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
    """Update rows in place by key (no delete-then-insert of the same key in one flush)."""
    existing = {line.line_key: line for line in order.lines}
    for key, values in lines.items():
        line = existing.get(key)
        if line is None:
            order.lines.append(OrderLine(line_key=key, **values))
        else:
            for name, value in values.items():
                setattr(line, name, value)
    order.lines[:] = [line for line in order.lines if line.line_key in lines]


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
    existing = {shipment.shipment_id: shipment for shipment in order.shipments}
    for shipment_id, values in wanted.items():
        row = existing.get(shipment_id)
        if row is None:
            order.shipments.append(OrderShipment(shipment_id=shipment_id, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    order.shipments[:] = [s for s in order.shipments if s.shipment_id in wanted]

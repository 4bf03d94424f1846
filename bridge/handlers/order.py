"""Keeps the ERP-facing copy of each order: header, one line per size row, shipments.

Every order event carries the whole order, so the copy is rebuilt from it; shipments and
cancellations arrive as later events of the same order and show up in the lines' quantities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copies, keep_copy
from bridge.handlers.payload import items, plain, quantity, text
from bridge.store.copies import sync_children, sync_children_many
from bridge.store.models import Order, OrderLine, OrderShipment, table_of


def handle_order(session: Session, event: EventRecord) -> Outcome:
    if event.is_delete:
        return keep_copy(session, Order, event, _header)
    # Read the whole order first: a bad quantity fails the event before anything is written.
    lines = _lines(event.payload, event.object_id)
    shipments = _shipments(event.payload)
    outcome = keep_copy(session, Order, event, _header)
    if outcome is Outcome.HANDLED:
        parent = {"order_id": event.object_id}
        sync_children(session, table_of(OrderLine), parent, "line_key", lines)
        sync_children(session, table_of(OrderShipment), parent, "shipment_id", shipments)
    return outcome


def handle_orders(session: Session, events: Sequence[EventRecord]) -> list[Outcome]:
    """``handle_order`` for a batch: one statement per table (headers, lines, shipments)."""
    # As for one event: every order is read before anything is written.
    children = {
        event.seq: (_lines(event.payload, event.object_id), _shipments(event.payload))
        for event in events
        if not event.is_delete
    }
    kept = keep_copies(session, Order, events, _header)
    lines = {order_id: children[event.seq][0] for order_id, event in kept.written.items()}
    shipments = {order_id: children[event.seq][1] for order_id, event in kept.written.items()}
    sync_children_many(session, table_of(OrderLine), "order_id", "line_key", lines)
    sync_children_many(session, table_of(OrderShipment), "order_id", "shipment_id", shipments)
    return kept.outcomes


def _header(data: dict[str, Any]) -> dict[str, str]:
    return {
        "ordernumber": text(data, "ordernumber"),
        "order_type": text(data, "type"),
        "store": text(data, "store"),
        "status": text(data, "status"),
        "currency": text(data, "currency"),
        "ordertotal": text(data, "ordertotal"),
        "created": text(data, "created"),
        "customer_id": text(data, "customer", "id"),
        "account_id": text(data, "account", "id"),
        "market_id": text(data, "market", "id"),
        "locked": text(data, "locked"),
    }


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


def _shipments(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
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

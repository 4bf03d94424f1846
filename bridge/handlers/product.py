"""Keeps the ERP-facing copy of each product.

Centra's docs list no product event kind (products flow from the ERP to Centra); a site whose
Centra does send them gets a payload shaped like products_Update's ``<product>``, kept here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copies, keep_copy
from bridge.handlers.payload import text
from bridge.store.models import Product


def handle_product(session: Session, event: EventRecord) -> Outcome:
    return keep_copy(session, Product, event, _columns)


def handle_products(session: Session, events: Sequence[EventRecord]) -> list[Outcome]:
    """``handle_product`` for a batch, in one statement per kind of write."""
    return keep_copies(session, Product, events, _columns).outcomes


def _columns(data: dict[str, Any]) -> dict[str, str]:
    return {
        "sku": text(data, "sku"),
        "description": text(data, "description"),
        "status": text(data, "status"),
    }

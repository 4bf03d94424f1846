"""Keeps the ERP-facing copy of each customer (the flat shape of customers_Update)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copies, keep_copy
from bridge.handlers.payload import text
from bridge.store.models import Customer


def handle_customer(session: Session, event: EventRecord) -> Outcome:
    return keep_copy(session, Customer, event, _columns)


def handle_customers(session: Session, events: Sequence[EventRecord]) -> list[Outcome]:
    """``handle_customer`` for a batch, in one statement per kind of write."""
    return keep_copies(session, Customer, events, _columns).outcomes


def _columns(data: dict[str, Any]) -> dict[str, str]:
    return {
        "email": text(data, "email"),
        "firstname": text(data, "firstname"),
        "lastname": text(data, "lastname"),
        "country": text(data, "country"),
    }

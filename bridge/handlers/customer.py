"""Keeps the ERP-facing copy of each customer (the flat shape of customers_Update)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copy
from bridge.handlers.payload import text
from bridge.store.models import Customer


def handle_customer(session: Session, event: EventRecord) -> Outcome:
    return keep_copy(session, Customer, event, _columns)


def _columns(data: dict[str, Any]) -> dict[str, str]:
    return {
        "email": text(data, "email"),
        "firstname": text(data, "firstname"),
        "lastname": text(data, "lastname"),
        "country": text(data, "country"),
    }

"""Keeps the ERP-facing copy of each customer (the flat shape of customers_Update)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.copies import keep_copy
from bridge.handlers.payload import text
from bridge.store.models import Customer


def handle_customer(session: Session, event: EventRecord) -> Outcome:
    return keep_copy(session, Customer, event, _fill)


def _fill(customer: Customer, data: dict[str, Any]) -> None:
    customer.email = text(data, "email")
    customer.firstname = text(data, "firstname")
    customer.lastname = text(data, "lastname")
    customer.country = text(data, "country")

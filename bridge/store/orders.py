"""What the outbox needs to know of an order before it queues an update for it: the local
copy (rebuilt from Centra's order events) and the order updates queued but not yet sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.store.models import Order, OutboxRecord, OutboxStatus

#: Order updates queued that may still reach Centra, so their rows count as taken.
_UNSENT = (OutboxStatus.QUEUED, OutboxStatus.FAILED)


def order_copy(session: Session, order_id: str) -> dict[str, Any] | None:
    """The order as its newest event showed it, or None (never seen, or deleted)."""
    row = session.execute(
        select(Order.data, Order.deleted).where(Order.order_id == order_id)
    ).first()
    if row is None or row.deleted:
        return None
    data: dict[str, Any] = row.data
    return data


def unsent_updates(session: Session, order_id: str) -> list[dict[str, Any]]:
    """The fields of this order's updates not sent yet, oldest first."""
    return list(
        session.scalars(
            select(OutboxRecord.fields)
            .where(
                OutboxRecord.entity_type == "order",
                OutboxRecord.erp_id == order_id,
                OutboxRecord.status.in_(_UNSENT),
            )
            .order_by(OutboxRecord.id)
        )
    )

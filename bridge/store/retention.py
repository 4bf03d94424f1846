"""Housekeeping: forget events that are long finished; failed and dead ones are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from bridge.store.models import CentraResponse, EventStatus, StoredEvent

#: Statuses that need nothing more from anyone; failed and dead events wait for a person.
FINISHED = (EventStatus.HANDLED, EventStatus.IGNORED, EventStatus.SUPERSEDED)


def prune_events(session: Session, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` finished, acknowledged events handled before ``before``.

    Unacknowledged events are never deleted: Centra would send them again as new. The newest
    event is kept too, so SQLite never hands its ``seq`` to a later event (the local copies
    compare ``seq`` to tell newer from older).
    """
    newest = session.scalar(select(func.max(StoredEvent.seq)))
    seqs = list(
        session.scalars(
            select(StoredEvent.seq)
            .where(StoredEvent.status.in_(FINISHED))
            .where(StoredEvent.acknowledged_at.is_not(None))
            .where(StoredEvent.handled_at < before)
            .where(StoredEvent.seq < (newest or 0))
            .order_by(StoredEvent.seq)
            .limit(limit)
        )
    )
    if seqs:
        session.execute(delete(StoredEvent).where(StoredEvent.seq.in_(seqs)))
    return len(seqs)


def prune_responses(session: Session, limit: int) -> int:
    """Delete up to ``limit`` stored Centra answers that no event refers to any more."""
    ids = list(
        session.scalars(
            select(CentraResponse.id)
            .where(~exists().where(StoredEvent.response_id == CentraResponse.id))
            .order_by(CentraResponse.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(delete(CentraResponse).where(CentraResponse.id.in_(ids)))
    return len(ids)

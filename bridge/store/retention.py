"""Housekeeping: forget events and ERP updates long finished; failed and dead ones are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from bridge.store.models import CentraResponse, EventStatus, OutboxRecord, OutboxStatus, StoredEvent

#: Statuses that need nothing more from anyone (skipped: a person said so); failed and dead
#: events wait for a person.
FINISHED = (
    EventStatus.HANDLED,
    EventStatus.IGNORED,
    EventStatus.SUPERSEDED,
    EventStatus.SKIPPED,
)


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


def prune_outbox(session: Session, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` ERP updates sent before ``before`` (they hold customers' data).

    Kept while an older update of the same object is failed or dead: ``push --retry`` looks
    at the newer one to never send older data over it.
    """
    stuck = aliased(OutboxRecord)
    ids = list(
        session.scalars(
            select(OutboxRecord.id)
            .where(OutboxRecord.status == OutboxStatus.SENT, OutboxRecord.sent_at < before)
            .where(
                ~exists().where(
                    stuck.entity_type == OutboxRecord.entity_type,
                    stuck.erp_id == OutboxRecord.erp_id,
                    stuck.status.in_((OutboxStatus.FAILED, OutboxStatus.DEAD)),
                )
            )
            .order_by(OutboxRecord.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(delete(OutboxRecord).where(OutboxRecord.id.in_(ids)))
    return len(ids)


def prune_staged(session: Session, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` records staged before ``before``: what a ``push FILE`` killed
    while reading its file left behind (never sent; the file was not queued)."""
    ids = list(
        session.scalars(
            select(OutboxRecord.id)
            .where(OutboxRecord.status == OutboxStatus.STAGED, OutboxRecord.created_at < before)
            .order_by(OutboxRecord.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(delete(OutboxRecord).where(OutboxRecord.id.in_(ids)))
    return len(ids)

"""The rule every local copy follows: newest event wins, deletes keep the row, twice = once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome, utcnow
from bridge.store.models import Customer, Order, Product

Copy = TypeVar("Copy", Order, Customer, Product)


def keep_copy(
    session: Session,
    model: type[Copy],
    event: EventRecord,
    fill: Callable[[Copy, dict[str, Any]], None],
) -> Outcome:
    """Write ``event``'s object into ``model`` unless a newer event already did.

    ``fill`` copies the payload's fields onto the row; it runs for updates, not deletes.
    """
    object_id = event.object_id
    if not object_id:
        raise ValueError(
            f"event {event.event_id}: {event.type} has no <id> and the event no <entry>"
        )
    # Locked (on PostgreSQL) so a concurrent run cannot slip an older state in between.
    row = session.get(model, object_id, with_for_update=True)
    if row is not None and row.event_seq > event.seq:
        return Outcome.SUPERSEDED
    if row is None:
        key = model.__mapper__.primary_key[0].key
        row = model(**{key: object_id}, data={}, event_seq=event.seq, updated_at=utcnow())
        session.add(row)
    if event.is_delete:
        row.deleted = True
    else:
        row.data = event.payload
        fill(row, event.payload)
        row.deleted = False
    row.event_seq = event.seq
    row.updated_at = utcnow()
    return Outcome.HANDLED

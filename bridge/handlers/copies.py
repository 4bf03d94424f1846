"""The rule every local copy follows: newest event wins, deletes keep the row, twice = once.

The store writes it in one statement (``bridge.store.copies``); this module says what an
event puts into its copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.handlers.base import EventRecord, Outcome
from bridge.store.copies import key_column, write_newest
from bridge.store.models import Customer, Order, Product, table_of

#: Turns a payload into the copy's own columns (besides id, data, deleted, event_seq).
Columns = Callable[[dict[str, Any]], dict[str, Any]]
_DELETE_COLUMNS = ("deleted", "event_seq", "updated_at")


def keep_copy(
    session: Session,
    model: type[Order] | type[Customer] | type[Product],
    event: EventRecord,
    columns: Columns,
) -> Outcome:
    """Write ``event``'s object into ``model``'s table unless a newer event already did.

    A delete keeps the row (and its last known fields) and sets ``deleted``.
    """
    object_id = event.object_id
    if not object_id:
        raise ValueError(
            f"event {event.event_id}: {event.type} has no <id> and the event no <entry>"
        )
    table = table_of(model)
    values: dict[str, Any] = {"event_seq": event.seq, "updated_at": utcnow()}
    changed: tuple[str, ...]
    if event.is_delete:
        values |= {"deleted": True, "data": {}}
        changed = _DELETE_COLUMNS
    else:
        values |= {"data": event.payload, "deleted": False, **columns(event.payload)}
        changed = tuple(values)
    values[key_column(table)] = object_id
    applied = write_newest(session, table, values, changed)
    return Outcome.HANDLED if applied else Outcome.SUPERSEDED

"""The rule every local copy follows: newest event wins, deletes keep the row, twice = once.

The store writes it in one statement (``bridge.store.copies``); this module says what an
event puts into its copy, for one event or for a batch of them (one statement per table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.handlers.base import EventRecord, Handler, Outcome
from bridge.store.copies import key_column, states, write_newest, write_newest_many
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
    table = table_of(model)
    values, changed = _row(table, event, columns, utcnow())
    applied = write_newest(session, table, values, changed)
    return Outcome.HANDLED if applied else Outcome.SUPERSEDED


@dataclass
class KeptCopies:
    """What ``keep_copies`` did with a batch."""

    #: One per event, in the batch's order.
    outcomes: list[Outcome] = field(default_factory=list)
    #: Per object, the newest event whose whole object was written (not a delete): an
    #: order's lines follow it.
    written: dict[str, EventRecord] = field(default_factory=dict)


def keep_copies(
    session: Session,
    model: type[Order] | type[Customer] | type[Product],
    events: Sequence[EventRecord],
    columns: Columns,
) -> KeptCopies:
    """``keep_copy`` for a batch, oldest first: one read of the stored copies, then one
    statement per kind of write (objects, deletes), each object written once, with its
    newest event. The outcomes are those of handling the events one at a time: an event newer
    than its copy was at its turn is handled.

    The read decides, as nothing else writes the copies while the batch's transaction holds
    the dispatch turn (on SQLite, the write lock); newest-wins stays in the statement all
    the same.
    """
    table = table_of(model)
    now = utcnow()
    for event in events:
        if not event.object_id:
            _row(table, event, columns, now)  # raises: the event names no object
    stored = states(session, model, {event.object_id for event in events}, with_data=False)
    newest = {object_id: state.event_seq for object_id, state in stored.items()}
    kept = KeptCopies()
    final: dict[str, EventRecord] = {}
    for event in events:
        seen = newest.get(event.object_id)
        applied = seen is None or event.seq >= seen
        kept.outcomes.append(Outcome.HANDLED if applied else Outcome.SUPERSEDED)
        if applied:
            newest[event.object_id] = event.seq
            final[event.object_id] = event
            if not event.is_delete:
                kept.written[event.object_id] = event
    # An object's newest whole state goes first, so that a delete after it keeps its fields.
    whole = [_row(table, event, columns, now) for event in kept.written.values()]
    deletes = [_row(table, event, columns, now) for event in final.values() if event.is_delete]
    write_newest_many(session, table, [row for row, _ in whole], _changed(whole))
    write_newest_many(session, table, [row for row, _ in deletes], _changed(deletes))
    return kept


def _changed(rows: Sequence[tuple[dict[str, Any], tuple[str, ...]]]) -> tuple[str, ...]:
    return rows[0][1] if rows else ()


def _row(
    table: Any, event: EventRecord, columns: Columns, now: Any
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The copy's row for ``event`` and the columns an update of it changes."""
    object_id = event.object_id
    if not object_id:
        raise ValueError(
            f"event {event.event_id}: {event.type} has no <id> and the event no <entry>"
        )
    values: dict[str, Any] = {"event_seq": event.seq, "updated_at": now}
    changed: tuple[str, ...]
    if event.is_delete:
        values |= {"deleted": True, "data": {}}
        changed = _DELETE_COLUMNS
    else:
        values |= {"data": event.payload, "deleted": False, **columns(event.payload)}
        changed = tuple(values)
    values[key_column(table)] = object_id
    return values, changed


@dataclass(frozen=True, slots=True)
class BuiltIn:
    """A built-in handler: ``one`` for an event alone, ``batch`` for many (a BatchHandler)."""

    one: Handler
    batch: Callable[[Session, Sequence[EventRecord]], Sequence[Outcome | None]]

    def __call__(self, session: Session, event: EventRecord) -> Outcome | None:
        return self.one(session, event)

    def handle_batch(
        self, session: Session, events: Sequence[EventRecord]
    ) -> Sequence[Outcome | None]:
        return self.batch(session, events)

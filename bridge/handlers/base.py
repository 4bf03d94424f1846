"""What a handler is: a plain callable, ``(session, event) -> Outcome | None``; and, for
speed, a batch handler that also takes a batch of events of its type at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Row
from sqlalchemy.orm import Session

from bridge.centra.dates import event_time
from bridge.store.models import StoredEvent


class Outcome(StrEnum):
    """What handling an event came to; returning None from a handler means HANDLED."""

    HANDLED = "handled"
    IGNORED = "ignored"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A stored event as handlers see it; plain data, safe to keep after the transaction."""

    #: Local arrival order (Centra's order): a larger seq is a newer state of the object.
    seq: int
    event_id: str
    type: str
    entry: str
    mission: str
    date: str
    payload_kind: str
    payload: dict[str, Any]
    xml: str
    #: Failed attempts before this one.
    attempts: int
    #: When the change happened, by Centra's ``date`` (``date`` keeps the text as sent);
    #: None when Centra sent no date it could be read from.
    occurred_at: datetime | None = None

    @classmethod
    def from_stored(
        cls, row: StoredEvent | Row[Any], payload: dict[str, Any], zone: tzinfo = UTC
    ) -> EventRecord:
        """From the ``events`` table (an ORM object or a plain row) and its payload, read from
        the row's XML; a date sent without an offset is in ``zone`` (the merchant's)."""
        return cls(
            seq=row.seq,
            event_id=row.event_id,
            type=row.type,
            entry=row.entry,
            mission=row.mission,
            date=row.centra_date,
            payload_kind=row.payload_kind,
            payload=payload,
            xml=row.xml,
            attempts=row.attempts,
            occurred_at=event_time(row.centra_date, zone),
        )

    @property
    def date_iso(self) -> str:
        """``occurred_at`` in ISO 8601 with its offset, or the date as sent if unreadable."""
        return self.occurred_at.isoformat() if self.occurred_at is not None else self.date

    @property
    def is_delete(self) -> bool:
        return self.mission == "delete"

    @property
    def object_id(self) -> str:
        """The object's id: the payload's ``<id>``, else Centra's ``entry``."""
        value = self.payload.get("id")
        return value if isinstance(value, str) and value else self.entry


class Handler(Protocol):
    """Handles one event inside the given transaction; raising means "failed, retry later".

    A handler must be idempotent: running it twice for one event has the effect of once.
    Writes through ``session`` commit together with the event's new status.
    """

    def __call__(self, session: Session, event: EventRecord) -> Outcome | None: ...


@runtime_checkable
class BatchHandler(Protocol):
    """A handler that can also take many events of its type in one call, for speed.

    ``handle_batch`` gets events of one type in Centra's order (oldest first), inside one
    savepoint of the dispatcher's transaction, and returns one outcome per event, in the same
    order. Raising from it undoes the whole batch's writes, and the dispatcher then runs each
    of those events alone through ``__call__``: a failing event still fails alone, with its own
    error and retry. Both paths must leave the same result, as if the events had been handled
    one at a time in order.
    """

    def __call__(self, session: Session, event: EventRecord) -> Outcome | None: ...

    def handle_batch(
        self, session: Session, events: Sequence[EventRecord]
    ) -> Sequence[Outcome | None]: ...


class PermanentError(Exception):
    """A handler's way of saying retrying cannot help: the event goes straight to ``dead``."""

"""Event transitions, one function per transition, each run inside the caller's transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Row, bindparam, func, insert, null, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bridge.store.bulk import execute_many
from bridge.store.models import (
    MAX_ID_CHARS,
    MAX_REQUEST_ID_CHARS,
    CentraResponse,
    EventStatus,
    StoredEvent,
    cut,
    table_of,
)
from bridge.store.upsert import dialect_of, insert_for


class IncomingEvent(Protocol):
    """What the store keeps of one fetched event (``bridge.centra.port.Event``)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def entry(self) -> str: ...
    @property
    def mission(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def payload_kind(self) -> str: ...
    @property
    def xml(self) -> str: ...


class IncomingPage(Protocol):
    """What the store keeps of one fetched page (``bridge.centra.port.EventPage``): the
    transport has masked its secrets already."""

    @property
    def events(self) -> Sequence[IncomingEvent]: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def transport(self) -> str: ...
    @property
    def state_at_fetch(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoredPage:
    """What storing one page did: which events were new, which Centra sent before, and how
    many new ones were stored as superseded already (``supersede_in_page``)."""

    new_seqs: list[int]
    duplicates: int
    superseded: int = 0


def store_page(session: Session, page: IncomingPage, operation: str, now: datetime) -> StoredPage:
    """Insert the page's events that are not stored yet; an id seen before is left untouched.

    What Centra sent is kept as the transport handed it over (secrets already masked); an
    event is known when the same transport sent its id before.
    """
    unique = {stored_event_id(event.event_id): event for event in page.events}
    if not unique:
        return StoredPage(new_seqs=[], duplicates=0)
    transport = page.transport
    known = set(session.scalars(_KNOWN_IDS, {"ids": list(unique), "the_transport": transport}))
    fresh = [(event_id, event) for event_id, event in unique.items() if event_id not in known]
    if not fresh:
        return StoredPage(new_seqs=[], duplicates=len(page.events))
    response_id = session.scalar(
        _INSERT_RESPONSE,
        {
            "operation": operation,
            "request_id": cut(page.request_id, MAX_REQUEST_ID_CHARS),
            "received_at": now,
            "body": page.raw,
        },
    )
    rows = [_row(event_id, event, transport, response_id, now) for event_id, event in fresh]
    superseded = supersede_in_page(rows, now) if page.state_at_fetch else 0
    execute_many(session, _insert_new(dialect_of(session)), rows)
    # The rows this page inserted carry its response id; a concurrent writer's do not.
    new_seqs = list(
        session.scalars(
            _NEW_SEQS, {"ids": [event_id for event_id, _ in fresh], "response_id": response_id}
        )
    )
    return StoredPage(
        new_seqs=new_seqs, duplicates=len(page.events) - len(new_seqs), superseded=superseded
    )


def supersede_in_page(rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Mark all but the last new row for each object (type, entry) superseded; how many.

    For a page whose events all carry the object's state at fetch time: they carry the same
    state, so the last one is handled and the others are done without a handler. Rows with
    no entry name no object and are left alone, as are rows parked dead already.
    """
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row["entry"] and row["status"] == EventStatus.NEW:
            last[(row["type"], row["entry"])] = row
    superseded = 0
    for row in rows:
        key = (row["type"], row["entry"])
        if row["entry"] and row["status"] == EventStatus.NEW and last[key] is not row:
            row["status"], row["handled_at"] = EventStatus.SUPERSEDED, now
            superseded += 1
    return superseded


_EVENTS = table_of(StoredEvent)
#: The lengths of the event columns whose values Centra decides (the rest are the bridge's).
_LENGTHS = {
    name: int(getattr(_EVENTS.c[name].type, "length", 0) or 0)
    for name in ("type", "entry", "mission", "centra_date", "payload_kind")
}
_RESPONSES = table_of(CentraResponse)
# Statements built once (a page runs each of them): only their parameters change.
_INSERT_RESPONSE = insert(_RESPONSES).returning(_RESPONSES.c.id)
_KNOWN_IDS = (
    select(_EVENTS.c.event_id)
    .where(_EVENTS.c.transport == bindparam("the_transport"))
    .where(_EVENTS.c.event_id.in_(bindparam("ids", expanding=True)))
)
_NEW_SEQS = (
    select(_EVENTS.c.seq)
    .where(_EVENTS.c.event_id.in_(bindparam("ids", expanding=True)))
    .where(_EVENTS.c.response_id == bindparam("response_id"))
    .order_by(_EVENTS.c.seq)
)
_UNACKNOWLEDGED = (
    select(_EVENTS.c.event_id)
    .where(_EVENTS.c.transport == bindparam("the_transport"))
    .where(_EVENTS.c.acknowledged_at.is_(None))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)
_MARK_ACKNOWLEDGED = (
    update(_EVENTS)
    .where(_EVENTS.c.transport == bindparam("the_transport"))
    .where(_EVENTS.c.event_id.in_(bindparam("ids", expanding=True)))
    .where(_EVENTS.c.acknowledged_at.is_(None))
    .values(acknowledged_at=bindparam("now"))
)
_COUNT_ATTEMPT = (
    update(_EVENTS)
    .where(_EVENTS.c.seq == bindparam("the_seq"))
    .values(attempts=_EVENTS.c.attempts + 1, handled_at=null())
)
_RECORD_ENDING = (
    update(_EVENTS)
    .where(_EVENTS.c.seq == bindparam("the_seq"))
    .values(
        status=bindparam("the_status"),
        last_error=bindparam("the_error"),
        next_attempt_at=bindparam("the_retry_at"),
        handled_at=bindparam("the_time"),
    )
)


@cache
def _insert_new(dialect: str) -> Executable:
    """Built once: executed with a page's rows as one executemany.

    ON CONFLICT keeps a concurrent writer's row instead of failing the whole page.
    """
    return insert_for(dialect, _EVENTS).on_conflict_do_nothing(
        index_elements=["transport", "event_id"]
    )


def stored_event_id(event_id: str) -> str:
    """The id an event is stored under: Centra's own, or for one longer than the column can
    hold a shortened one that stays unique (its start and a hash of the whole)."""
    if len(event_id) <= MAX_ID_CHARS:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:16]
    return f"{event_id[: MAX_ID_CHARS - len(digest) - 1]}~{digest}"


def _row(
    event_id: str, event: IncomingEvent, transport: str, response_id: int | None, now: datetime
) -> dict[str, Any]:
    """One ``events`` row; metadata longer than its column is cut (the XML keeps it whole).

    An event whose own id had to be shortened is a poison event: stored, so it is
    acknowledged with the rest of its page and never jams Centra's queue, but parked as
    dead with the reason, as no handler could address it by its id.
    """
    row = {
        "transport": transport,
        "event_id": event_id,
        "type": cut(event.type, _LENGTHS["type"]),
        "entry": cut(event.entry, _LENGTHS["entry"]),
        "mission": cut(event.mission, _LENGTHS["mission"]),
        "centra_date": cut(event.date, _LENGTHS["centra_date"]),
        "payload_kind": cut(event.payload_kind, _LENGTHS["payload_kind"]),
        "xml": event.xml,
        "response_id": response_id,
        "status": EventStatus.NEW,
        "attempts": 0,
        "received_at": now,
        # Every row carries every key: the page is inserted as one executemany.
        "last_error": None,
        "handled_at": None,
    }
    if event_id != event.event_id:
        row["status"] = EventStatus.DEAD
        row["last_error"] = (
            f"event id of {len(event.event_id)} characters, more than {MAX_ID_CHARS}: stored "
            "under a shortened id and not handled; the full id is in the event's XML"
        )
        row["handled_at"] = now
    return row


def unacknowledged_ids(session: Session, limit: int, transport: str = "soap") -> list[str]:
    """Events ``transport`` sent whose acknowledgement is not confirmed yet, oldest first."""
    return list(session.scalars(_UNACKNOWLEDGED, {"limit": limit, "the_transport": transport}))


def mark_acknowledged(
    session: Session, event_ids: Iterable[str], now: datetime, transport: str = "soap"
) -> None:
    """Centra confirmed these (its ids, as sent in the acknowledgement over ``transport``)."""
    ids = [stored_event_id(event_id) for event_id in event_ids]
    for start in range(0, len(ids), 500):
        session.execute(
            _MARK_ACKNOWLEDGED,
            {"ids": ids[start : start + 500], "now": now, "the_transport": transport},
        )


def due_seqs(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    """Events waiting for a handler: new ones, and failed ones whose back-off has passed."""
    query = (
        select(StoredEvent.seq)
        .where(
            (StoredEvent.status == EventStatus.NEW)
            | ((StoredEvent.status == EventStatus.FAILED) & (StoredEvent.next_attempt_at <= now))
        )
        .order_by(StoredEvent.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class Ending:
    """How one handler attempt ended, to be recorded with the rest of its batch."""

    seq: int
    status: str
    error: str | None = None
    #: When a failed event is tried again; None for every other status.
    retry_at: datetime | None = None


def take_dispatch_turn(session: Session) -> None:
    """Wait for this transaction's turn to handle events (PostgreSQL; SQLite's write lock
    already serialises writers).

    Two processes handling events at once (``replay`` beside ``run``) write the same copies in
    different orders and deadlock; one dispatching transaction at a time per database, held
    until it ends, cannot.
    """
    if dialect_of(session) == "postgresql":
        session.execute(_DISPATCH_TURN, {"key": DISPATCH_KEY})


#: The advisory-lock key dispatching transactions take turns on (PostgreSQL; positive bigint).
DISPATCH_KEY = int.from_bytes(hashlib.sha256(b"centra-bridge dispatch").digest()[:8], "big") >> 1
_DISPATCH_TURN = text("SELECT pg_advisory_xact_lock(:key)")


def lock_events(session: Session, seqs: Sequence[int], *, whole: bool = True) -> list[Row[Any]]:
    """The events, in order, locked against another process handling them (PostgreSQL),
    with what handling reads; without ``whole`` only what claiming them reads (no XML)."""
    query = _LOCK_EVENTS if whole else _LOCK_CLAIMS
    return list(session.connection().execute(query, {"seqs": list(seqs)}).all())


def _locked(*columns: str) -> Executable:
    """These columns of the events named by ``seqs``, in order, locked (PostgreSQL)."""
    return (
        select(*(_EVENTS.c[name] for name in columns))
        .where(_EVENTS.c.seq.in_(bindparam("seqs", expanding=True)))
        .order_by(_EVENTS.c.seq)
        .with_for_update()
    )


#: What handling reads of an event (an ``EventRecord`` and its status). No timestamps:
#: reading them back cost more than the rest of the row on SQLite.
_LOCK_EVENTS = _locked(
    "seq",
    "event_id",
    "type",
    "entry",
    "mission",
    "centra_date",
    "payload_kind",
    "xml",
    "status",
    "attempts",
)
_LOCK_CLAIMS = _locked("seq", "event_id", "status", "attempts", "handled_at")


def count_attempts(session: Session, seqs: Sequence[int]) -> None:
    """An attempt starts; ``handled_at`` stays unset until it ends, so a crash shows."""
    execute_many(session, _COUNT_ATTEMPT, [{"the_seq": seq} for seq in seqs])


def record_endings(session: Session, endings: Sequence[Ending], now: datetime) -> None:
    """Handled, ignored, superseded, failed (with its next try) or dead, in one statement."""
    execute_many(
        session,
        _RECORD_ENDING,
        [
            {
                "the_seq": e.seq,
                "the_status": e.status,
                "the_error": e.error,
                "the_retry_at": e.retry_at,
                "the_time": now,
            }
            for e in endings
        ],
    )


def count_by_type_and_status(session: Session) -> dict[tuple[str, str], int]:
    """Stored events per (type, status): ``status`` and the metrics both read their sums."""
    rows = session.execute(
        select(StoredEvent.type, StoredEvent.status, func.count()).group_by(
            StoredEvent.type, StoredEvent.status
        )
    ).all()
    return {(event_type, status): count for event_type, status, count in rows}


def oldest_failed(session: Session) -> StoredEvent | None:
    """The oldest event that failed or is dead, for ``status``."""
    return session.scalars(
        select(StoredEvent)
        .where(StoredEvent.status.in_((EventStatus.FAILED, EventStatus.DEAD)))
        .order_by(StoredEvent.seq)
        .limit(1)
    ).first()


def oldest_failed_received_at(session: Session) -> datetime | None:
    """When the oldest event still waiting for a retry (``failed``, not ``dead``) arrived."""
    return session.scalar(
        select(StoredEvent.received_at)
        .where(StoredEvent.status == EventStatus.FAILED)
        .order_by(StoredEvent.seq)
        .limit(1)
    )


def last_received_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(StoredEvent.received_at)))


def count_stored(session: Session, event_ids: Sequence[str]) -> int:
    """How many of ``event_ids`` are stored."""
    return session.scalar(select(func.count()).where(StoredEvent.event_id.in_(event_ids))) or 0


def count_unacknowledged(session: Session) -> int:
    return session.scalar(select(func.count()).where(StoredEvent.acknowledged_at.is_(None))) or 0


@dataclass(frozen=True, slots=True)
class ReplaySelection:
    """Which stored events ``replay`` runs again; empty criteria select nothing."""

    event_ids: Sequence[str] = ()
    types: Sequence[str] = ()
    statuses: Sequence[str] = ()
    since: datetime | None = None
    until: datetime | None = None

    def is_empty(self) -> bool:
        return not (self.event_ids or self.types or self.statuses or self.since or self.until)


def select_for_replay(session: Session, selection: ReplaySelection) -> list[StoredEvent]:
    """Every criterion given must match; results in Centra's order."""
    query = select(StoredEvent).order_by(StoredEvent.seq)
    if selection.event_ids:
        query = query.where(StoredEvent.event_id.in_(selection.event_ids))
    if selection.types:
        query = query.where(StoredEvent.type.in_(selection.types))
    if selection.statuses:
        query = query.where(StoredEvent.status.in_(selection.statuses))
    if selection.since is not None:
        query = query.where(StoredEvent.received_at >= selection.since)
    if selection.until is not None:
        query = query.where(StoredEvent.received_at < selection.until)
    return list(session.scalars(query))


def mark_echo(session: Session, seq: int) -> None:
    """The event only showed back a push of the bridge's own; nothing delivered it."""
    session.execute(update(_EVENTS).where(_EVENTS.c.seq == seq).values(echo=True))


def mark_echoes(session: Session, seqs: Sequence[int]) -> None:
    """``mark_echo`` for a batch's echoes, in one statement."""
    if seqs:
        session.execute(update(_EVENTS).where(_EVENTS.c.seq.in_(seqs)).values(echo=True))


def mark_delivered(session: Session, seq: int, destination: str) -> None:
    """The type's sink delivered the event there (a file, a table, a callable)."""
    session.execute(
        update(_EVENTS)
        .where(_EVENTS.c.seq == seq)
        .values(echo=False, delivered_to=cut(destination, _DESTINATION_CHARS))
    )


#: Longest destination kept (a file path, a table); longer ones are cut.
_DESTINATION_CHARS = 1000

#: Statuses a person may send back to the handlers (``events retry``).
RETRIABLE = (EventStatus.FAILED, EventStatus.DEAD, EventStatus.SKIPPED)
#: Statuses a person may set aside (``events skip``): those still waiting for, or given up
#: by, the handlers.
SKIPPABLE = (EventStatus.NEW, EventStatus.FAILED, EventStatus.DEAD)


def statuses_of(session: Session, event_ids: Sequence[str]) -> dict[str, str]:
    """The current status of each of ``event_ids`` that is stored."""
    found: dict[str, str] = {}
    for start in range(0, len(event_ids), 500):
        rows = session.execute(
            select(_EVENTS.c.event_id, _EVENTS.c.status).where(
                _EVENTS.c.event_id.in_(event_ids[start : start + 500])
            )
        )
        found.update({event_id: status for event_id, status in rows})
    return found


def make_due(
    session: Session, note: str, *, event_ids: Sequence[str] = (), status: str | None = None
) -> int:
    """Events back to the handlers (``new``, attempts reset) by id, or every one in
    ``status``; only retriable ones change. The last error stays until a handler succeeds."""
    return _set_by_hand(
        session,
        {"status": EventStatus.NEW, "attempts": 0, "next_attempt_at": None, "handled_at": None},
        note,
        RETRIABLE,
        event_ids,
        status,
    )


def mark_skipped(session: Session, event_ids: Sequence[str], note: str, now: datetime) -> int:
    """Events set aside by a person: no handler runs them again, the reason in ``note``."""
    return _set_by_hand(
        session,
        {"status": EventStatus.SKIPPED, "next_attempt_at": None, "handled_at": now},
        note,
        SKIPPABLE,
        event_ids,
        None,
    )


def _set_by_hand(
    session: Session,
    values: dict[str, Any],
    note: str,
    allowed: Sequence[str],
    event_ids: Sequence[str],
    status: str | None,
) -> int:
    """One statement per 500 ids (or one for a whole status); how many rows changed."""
    query = update(_EVENTS).values(**values, note=note)
    if status is not None:
        chunks: list[Sequence[str] | None] = [None]
        query = query.where(_EVENTS.c.status == status)
    else:
        chunks = [event_ids[start : start + 500] for start in range(0, len(event_ids), 500)]
        query = query.where(_EVENTS.c.status.in_(allowed))
    changed = 0
    for chunk in chunks:
        statement = query if chunk is None else query.where(_EVENTS.c.event_id.in_(chunk))
        changed += int(getattr(session.execute(statement), "rowcount", 0) or 0)
    return changed

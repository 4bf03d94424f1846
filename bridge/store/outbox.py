"""Outbox transitions, one function per transition, each run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from bridge.store.models import (
    MAX_REQUEST_ID_CHARS,
    OutboxRecord,
    OutboxStatus,
    cut,
    table_of,
)

#: Statuses of records that still wait for Centra.
PENDING = (OutboxStatus.QUEUED, OutboxStatus.FAILED)
_OUTBOX = table_of(OutboxRecord)


class NewRecord(Protocol):
    """What queueing needs of a checked ERP update (``bridge.outbox.input.ErpRecord``)."""

    @property
    def entity_type(self) -> str: ...
    @property
    def erp_id(self) -> str: ...
    @property
    def fields(self) -> dict[str, Any]: ...
    @property
    def source(self) -> str: ...


class Answer(Protocol):
    """What is kept of Centra's answer to a batch (``bridge.centra.port.UpdateResult``)."""

    @property
    def errors(self) -> list[str]: ...
    @property
    def notices(self) -> list[str]: ...
    @property
    def request_id(self) -> str | None: ...


def add_records(
    session: Session,
    records: Iterable[NewRecord],
    now: datetime,
    input_key: str | None = None,
    *,
    status: OutboxStatus = OutboxStatus.QUEUED,
) -> list[int]:
    """Queue (or stage) ``records`` in the given order, in one statement executed for all of
    them; returns their outbox ids in that order."""
    rows: list[dict[str, Any]] = [
        {
            "entity_type": record.entity_type,
            "erp_id": record.erp_id,
            "fields": record.fields,
            "status": status,
            "attempts": 0,
            "errors": [],
            "notices": [],
            "source": record.source or None,
            "input_key": input_key,
            "created_at": now,
            "next_attempt_at": now,
        }
        for record in records
    ]
    return list(session.scalars(_ADD, rows)) if rows else []


_ADD = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


def input_queued(session: Session, input_key: str) -> bool:
    """Whether records from this input were queued already (a pick-up that crashed midway)."""
    queued = exists().where(
        OutboxRecord.input_key == input_key, OutboxRecord.status != OutboxStatus.STAGED
    )
    return bool(session.scalar(select(queued)))


def release_staged(session: Session, input_key: str, now: datetime) -> int:
    """Queue every record staged for this input, in one statement; returns how many."""
    result = session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.input_key == input_key, OutboxRecord.status == OutboxStatus.STAGED)
        .values(status=OutboxStatus.QUEUED, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def drop_staged(session: Session, input_key: str) -> int:
    """Delete what was staged for this input (it had a bad line, or a crash cut it short)."""
    result = session.execute(
        delete(OutboxRecord)
        .where(OutboxRecord.input_key == input_key, OutboxRecord.status == OutboxStatus.STAGED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class DueRecord:
    """What sending a record needs of its row."""

    id: int
    entity_type: str
    erp_id: str
    fields: dict[str, Any]


def due_records(session: Session, now: datetime, limit: int) -> list[DueRecord]:
    """Records to send now, oldest first: queued or failed ones whose back-off has passed.

    A record waits while an older record for the same object is still pending, so updates
    reach Centra in the order the ERP made them and a retried old one never overwrites a
    newer one. Each status is read in id order from its index and stops at ``limit``, so a
    batch costs the same with ten records queued or a million (failed records still in
    their back-off are walked past, and there are few of those).
    """
    due: list[DueRecord] = []
    for status in PENDING:
        rows = session.execute(_DUE, {"status": status, "now": now, "limit": limit})
        due += [DueRecord(*row) for row in rows]
    return sorted(due, key=lambda record: record.id)[:limit]


def _due_statement() -> Select[Any]:
    older = _OUTBOX.alias("older")
    blocked = exists().where(
        older.c.entity_type == _OUTBOX.c.entity_type,
        older.c.erp_id == _OUTBOX.c.erp_id,
        older.c.id < _OUTBOX.c.id,
        older.c.status.in_(PENDING),
    )
    return (
        select(_OUTBOX.c.id, _OUTBOX.c.entity_type, _OUTBOX.c.erp_id, _OUTBOX.c.fields)
        .where(
            _OUTBOX.c.status == bindparam("status"), _OUTBOX.c.next_attempt_at <= bindparam("now")
        )
        .where(~blocked)
        .order_by(_OUTBOX.c.id)
        .limit(bindparam("limit"))
    )


#: Built once: a push runs it twice per batch.
_DUE = _due_statement()


def mark_sent(
    session: Session, sent: Sequence[tuple[int, str, str]], result: Answer, now: datetime
) -> None:
    """Centra accepted these records (outbox id, ERP id, the id each went under) in one
    answer: its notices are kept on each, the errors of earlier tries cleared. Records sent
    under their ERP id (the usual case) take one statement for the whole batch."""
    if not sent:
        return
    session.execute(
        _MARK_SENT,
        {
            "ids": [outbox_id for outbox_id, _, _ in sent],
            "errors": list(result.errors),
            "notices": list(result.notices),
            "request_id": cut(result.request_id, MAX_REQUEST_ID_CHARS),
            "now": now,
        },
    )
    translated = [
        {"the_id": outbox_id, "the_centra_id": centra_id}
        for outbox_id, erp_id, centra_id in sent
        if centra_id != erp_id
    ]
    if translated:
        session.execute(_SET_CENTRA_ID, translated)


_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=OutboxStatus.SENT,
        attempts=_OUTBOX.c.attempts + 1,
        centra_id=_OUTBOX.c.erp_id,
        errors=bindparam("errors"),
        notices=bindparam("notices"),
        request_id=bindparam("request_id"),
        last_error=None,
        next_attempt_at=None,
        sent_at=bindparam("now"),
    )
)
_SET_CENTRA_ID = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("the_id"))
    .values(centra_id=bindparam("the_centra_id"))
)


def mark_failed(
    row: OutboxRecord,
    error: str,
    retry_at: datetime | None,
    *,
    errors: Sequence[str] = (),
    notices: Sequence[str] = (),
    request_id: str | None = None,
    centra_id: str | None = None,
    counts: bool = True,
) -> None:
    """Record a failed attempt; ``retry_at`` None means none are left: the record is dead.

    ``counts`` False: the attempt is not the record's fault (Centra was down) and is not counted.
    """
    if counts:
        row.attempts += 1
    row.status = OutboxStatus.FAILED if retry_at is not None else OutboxStatus.DEAD
    row.errors = list(errors)
    row.notices = list(notices)
    row.last_error = error
    row.request_id = cut(request_id, MAX_REQUEST_ID_CHARS)
    row.next_attempt_at = retry_at
    if centra_id is not None:
        row.centra_id = centra_id


def requeue(
    session: Session,
    statuses: Sequence[str],
    now: datetime,
    ids: Sequence[int] = (),
    note: str | None = None,
) -> int:
    """Make failed or dead records due now, attempts reset (``push --retry``); ``note``
    says who asked (``outbox retry``).

    A record with a newer one for the same object stays as it is: sending it now would
    put older data over newer.
    """
    newer = aliased(OutboxRecord)
    query = update(OutboxRecord).where(
        OutboxRecord.status.in_(statuses),
        ~exists().where(
            newer.entity_type == OutboxRecord.entity_type,
            newer.erp_id == OutboxRecord.erp_id,
            newer.id > OutboxRecord.id,
        ),
    )
    if ids:
        query = query.where(OutboxRecord.id.in_(ids))
    values: dict[str, Any] = {"status": OutboxStatus.QUEUED, "attempts": 0, "next_attempt_at": now}
    if note is not None:
        values["note"] = note
    result = session.execute(query.values(**values))
    return int(getattr(result, "rowcount", 0) or 0)


#: Statuses a person may send again (``outbox retry``).
RETRIABLE = (OutboxStatus.FAILED, OutboxStatus.DEAD, OutboxStatus.SKIPPED)
#: Statuses a person may set aside (``outbox skip``): not sent, or given up.
SKIPPABLE = (OutboxStatus.QUEUED, OutboxStatus.FAILED, OutboxStatus.DEAD)


def mark_skipped(session: Session, ids: Sequence[int], note: str) -> int:
    """Records set aside by a person: never sent, the reason in ``note``; a newer record
    for the same object no longer waits for them."""
    result = session.execute(
        update(OutboxRecord)
        .where(OutboxRecord.id.in_(ids), OutboxRecord.status.in_(SKIPPABLE))
        .values(status=OutboxStatus.SKIPPED, next_attempt_at=None, note=note)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)
    ).all()
    return {status: count for status, count in rows}


def oldest_queued_created_at(session: Session) -> datetime | None:
    """When the oldest record still queued was first queued (a requeued one keeps its date)."""
    return session.scalar(
        select(OutboxRecord.created_at)
        .where(OutboxRecord.status == OutboxStatus.QUEUED)
        .order_by(OutboxRecord.id)
        .limit(1)
    )


def troubled(session: Session, limit: int) -> list[dict[str, Any]]:
    """Failed and dead records, oldest first, with Centra's messages (for ``status``)."""
    rows = session.scalars(
        select(OutboxRecord)
        .where(OutboxRecord.status.in_((OutboxStatus.FAILED, OutboxStatus.DEAD)))
        .order_by(OutboxRecord.id)
        .limit(limit)
    )
    return [
        {
            "id": row.id,
            "type": row.entity_type,
            "erp_id": row.erp_id,
            "status": row.status,
            "attempts": row.attempts,
            "errors": row.errors,
            "last_error": row.last_error,
            "source": row.source,
            "request_id": row.request_id,
            "next_attempt_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
        }
        for row in rows
    ]


#: Is any push of a type waiting for its echo? One cheap read spares the batch's lookup.
_AWAITING_ECHO = (
    select(_OUTBOX.c.id)
    .where(
        _OUTBOX.c.entity_type == bindparam("the_type"),
        _OUTBOX.c.status == bindparam("the_status"),
        _OUTBOX.c.echo_event_id.is_(None),
        _OUTBOX.c.sent_at >= bindparam("since"),
    )
    .limit(1)
)


def unechoed_many(
    session: Session, entity_type: str, centra_ids: Sequence[str], since: datetime
) -> dict[str, list[OutboxRecord]]:
    """``unechoed`` for a batch of events' objects in one read: Centra id → its records."""
    found: dict[str, list[OutboxRecord]] = {}
    if not centra_ids:
        return found
    awaiting = {"the_type": entity_type, "the_status": OutboxStatus.SENT, "since": since}
    if session.connection().execute(_AWAITING_ECHO, awaiting).first() is None:
        return found  # the usual case: nothing of this type was pushed lately
    for record in session.scalars(
        select(OutboxRecord)
        .where(
            OutboxRecord.entity_type == entity_type,
            OutboxRecord.centra_id.in_(list(dict.fromkeys(centra_ids))),
            OutboxRecord.status == OutboxStatus.SENT,
            OutboxRecord.echo_event_id.is_(None),
            OutboxRecord.sent_at >= since,
        )
        .order_by(OutboxRecord.id)
    ):
        found.setdefault(record.centra_id or "", []).append(record)
    return found


def unechoed(
    session: Session, entity_type: str, centra_id: str, since: datetime
) -> list[OutboxRecord]:
    """Records sent to this object since ``since`` whose echo has not been seen, oldest first."""
    return list(
        session.scalars(
            select(OutboxRecord)
            .where(
                OutboxRecord.entity_type == entity_type,
                OutboxRecord.centra_id == centra_id,
                OutboxRecord.status == OutboxStatus.SENT,
                OutboxRecord.echo_event_id.is_(None),
                OutboxRecord.sent_at >= since,
            )
            .order_by(OutboxRecord.id)
        )
    )

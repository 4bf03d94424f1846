"""Reads for the operators' lookups: events and outbox records by object, by status, by id.

Every list is read a page at a time (limit and offset, in index order) with a count of what
matched, so a command or a web page says "N more" without loading the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from bridge.errors import BridgeError, ExitCode
from bridge.store.models import (
    MASTER_DATA_COPIES,
    Order,
    OrderLine,
    OrderShipment,
    OutboxRecord,
    StoredEvent,
    table_of,
)


class NotStored(BridgeError):
    """A lookup named an event, a record or an object the store does not hold."""

    exit_code = ExitCode.CONFIG


def jsonable(value: Any) -> Any:
    """Records, lists and dicts as JSON-ready data: datetimes in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


_EVENTS = table_of(StoredEvent)
_OUTBOX = table_of(OutboxRecord)
#: The ERP-facing copies, by the event type that writes them.
COPIES = {"order": Order, **MASTER_DATA_COPIES}


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored event as the lookups show it (its XML apart)."""

    event_id: str
    type: str
    object_id: str
    mission: str
    #: When the change happened, as Centra wrote it.
    date: str
    status: str
    attempts: int
    error: str | None
    received_at: datetime
    acknowledged_at: datetime | None
    handled_at: datetime | None
    next_attempt_at: datetime | None
    echo: bool
    delivered_to: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox record with Centra's answer as stored (its fields apart)."""

    id: int
    type: str
    erp_id: str
    centra_id: str | None
    status: str
    attempts: int
    errors: list[str]
    notices: list[str]
    error: str | None
    source: str | None
    request_id: str | None
    echo_event_id: str | None
    note: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a list: its rows (events or outbox records), where it starts, and how
    many matched in all."""

    rows: list[Any]
    total: int
    offset: int = 0

    @property
    def more(self) -> int:
        """Matching rows after this page."""
        return max(0, self.total - self.offset - len(self.rows))

    def as_dict(self, key: str) -> dict[str, Any]:
        return {
            key: jsonable(self.rows),
            "total": self.total,
            "offset": self.offset,
            "more": self.more,
        }


_EVENT_COLUMNS = (
    _EVENTS.c.event_id,
    _EVENTS.c.type,
    _EVENTS.c.entry,
    _EVENTS.c.mission,
    _EVENTS.c.centra_date,
    _EVENTS.c.status,
    _EVENTS.c.attempts,
    _EVENTS.c.last_error,
    _EVENTS.c.received_at,
    _EVENTS.c.acknowledged_at,
    _EVENTS.c.handled_at,
    _EVENTS.c.next_attempt_at,
    _EVENTS.c.echo,
    _EVENTS.c.delivered_to,
    _EVENTS.c.note,
)
_OUTBOX_COLUMNS = (
    _OUTBOX.c.id,
    _OUTBOX.c.entity_type,
    _OUTBOX.c.erp_id,
    _OUTBOX.c.centra_id,
    _OUTBOX.c.status,
    _OUTBOX.c.attempts,
    _OUTBOX.c.errors,
    _OUTBOX.c.notices,
    _OUTBOX.c.last_error,
    _OUTBOX.c.source,
    _OUTBOX.c.request_id,
    _OUTBOX.c.echo_event_id,
    _OUTBOX.c.note,
    _OUTBOX.c.created_at,
    _OUTBOX.c.next_attempt_at,
    _OUTBOX.c.sent_at,
)


def _event(row: Sequence[Any]) -> EventRow:
    return EventRow(*row)


def _record(row: Sequence[Any]) -> OutboxRow:
    values = list(row)
    values[6], values[7] = list(values[6] or []), list(values[7] or [])  # errors, notices
    return OutboxRow(*values)


def _page(
    session: Session,
    columns: tuple[Any, ...],
    where: list[ColumnElement[bool]],
    order: ColumnElement[Any],
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    rows = list(
        session.execute(select(*columns).where(*where).order_by(order).limit(limit).offset(offset))
    )
    total = session.scalar(select(func.count()).select_from(columns[0].table).where(*where)) or 0
    return rows, total


def events_of_object(session: Session, event_type: str, object_id: str, limit: int) -> Listing:
    """The newest ``limit`` events for one object, oldest first, and how many there are."""
    where = [_EVENTS.c.type == event_type, _EVENTS.c.entry == object_id]
    rows, total = _page(session, _EVENT_COLUMNS, where, _EVENTS.c.seq.desc(), limit, 0)
    return Listing([_event(row) for row in reversed(rows)], total)


def find_event(session: Session, event_id: str) -> tuple[EventRow, str] | None:
    """One event and its XML as stored (secrets masked when it was stored)."""
    row = session.execute(
        select(*_EVENT_COLUMNS, _EVENTS.c.xml).where(_EVENTS.c.event_id == event_id)
    ).first()
    return None if row is None else (_event(row[:-1]), row[-1])


def list_events(
    session: Session,
    *,
    statuses: Collection[str] = (),
    types: Collection[str] = (),
    since: datetime | None = None,
    search: str | None = None,
    limit: int,
    offset: int = 0,
) -> Listing:
    """Events matching every filter given, newest first; ``search`` is an event id or an
    object id (compared whole, as a bound value)."""
    where: list[ColumnElement[bool]] = []
    if search:
        where.append(_is_or_concerns(search))
    if statuses:
        where.append(_EVENTS.c.status.in_(statuses))
    if types:
        where.append(_EVENTS.c.type.in_(types))
    if since is not None:
        where.append(_EVENTS.c.received_at >= since)
    rows, total = _page(session, _EVENT_COLUMNS, where, _EVENTS.c.seq.desc(), limit, offset)
    return Listing([_event(row) for row in rows], total, offset)


def _is_or_concerns(some_id: str) -> ColumnElement[bool]:
    """Events whose id, or whose object's id, is ``some_id``. Each side names the leading
    column of its index (every transport, every type stored) so both are searched by index
    rather than by reading every event."""
    transports = select(_EVENTS.c.transport).distinct().scalar_subquery()
    types = select(_EVENTS.c.type).distinct().scalar_subquery()
    return (_EVENTS.c.transport.in_(transports) & (_EVENTS.c.event_id == some_id)) | (
        _EVENTS.c.type.in_(types) & (_EVENTS.c.entry == some_id)
    )


def outbox_of_object(
    session: Session, entity_type: str, ids: Collection[str], limit: int
) -> Listing:
    """The newest ``limit`` records sent, or to be sent, for one object under any of its
    ids (ERP or Centra), oldest first."""
    where = [
        _OUTBOX.c.entity_type == entity_type,
        _OUTBOX.c.erp_id.in_(ids) | _OUTBOX.c.centra_id.in_(ids),
    ]
    rows, total = _page(session, _OUTBOX_COLUMNS, where, _OUTBOX.c.id.desc(), limit, 0)
    return Listing([_record(row) for row in reversed(rows)], total)


def find_outbox(session: Session, record_id: int) -> tuple[OutboxRow, dict[str, Any]] | None:
    """One outbox record and the fields the ERP handed over."""
    row = session.execute(
        select(*_OUTBOX_COLUMNS, _OUTBOX.c.fields).where(_OUTBOX.c.id == record_id)
    ).first()
    return None if row is None else (_record(row[:-1]), dict(row[-1] or {}))


def list_outbox(
    session: Session,
    *,
    statuses: Collection[str] = (),
    types: Collection[str] = (),
    since: datetime | None = None,
    limit: int,
    offset: int = 0,
) -> Listing:
    """Outbox records matching every filter given, newest first."""
    where: list[ColumnElement[bool]] = []
    if statuses:
        where.append(_OUTBOX.c.status.in_(statuses))
    if types:
        where.append(_OUTBOX.c.entity_type.in_(types))
    if since is not None:
        where.append(_OUTBOX.c.created_at >= since)
    rows, total = _page(session, _OUTBOX_COLUMNS, where, _OUTBOX.c.id.desc(), limit, offset)
    return Listing([_record(row) for row in rows], total, offset)


def outbox_statuses(session: Session, record_ids: Collection[int]) -> dict[int, str]:
    """The current status of each of ``record_ids`` that is stored."""
    rows = session.execute(
        select(_OUTBOX.c.id, _OUTBOX.c.status).where(_OUTBOX.c.id.in_(record_ids))
    )
    return {record_id: status for record_id, status in rows}


def copy_of(session: Session, event_type: str, object_id: str) -> dict[str, Any] | None:
    """The ERP-facing copy's own columns (its order lines and shipments too), and the event
    it was last written from; None when the type keeps no copy or the object has none."""
    model = COPIES.get(event_type)
    if model is None:
        return None
    table = table_of(model)
    key = next(iter(table.primary_key.columns))
    shown = [column for column in table.c if column.name != "data"]
    row = session.execute(
        select(*shown, _EVENTS.c.event_id.label("written_by_event"))
        .outerjoin(_EVENTS, _EVENTS.c.seq == table.c.event_seq)
        .where(key == object_id)
    ).first()
    if row is None:
        return None
    copy = dict(row._mapping)
    copy.pop("event_seq", None)
    if model is Order:
        copy["lines"] = _children(session, table_of(OrderLine), object_id)
        copy["shipments"] = _children(session, table_of(OrderShipment), object_id)
    return copy


def _children(session: Session, table: Any, order_id: str) -> list[dict[str, Any]]:
    shown = [column for column in table.c if column.name not in ("id", "order_id")]
    rows = session.execute(select(*shown).where(table.c.order_id == order_id).order_by(table.c.id))
    return [dict(row._mapping) for row in rows]

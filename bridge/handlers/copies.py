"""The rule every local copy follows: newest event wins, deletes keep the row, twice = once.

Written with one ``INSERT … ON CONFLICT DO UPDATE … WHERE event_seq <= new`` per object, so
the "is a newer event already in?" check and the write are one statement that a concurrent
run cannot slip between. The statements are built once per table and shape and reused, so
an event costs its SQL and little else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bridge.handlers.base import EventRecord, Outcome, utcnow
from bridge.store.models import Customer, Order, Product
from bridge.store.upsert import dialect_of, insert_for

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
    table: Table = model.__table__  # type: ignore[assignment]
    values: dict[str, Any] = {"event_seq": event.seq, "updated_at": utcnow()}
    if event.is_delete:
        values |= {"deleted": True, "data": {}}
        changed = _DELETE_COLUMNS
    else:
        values |= {"data": event.payload, "deleted": False, **columns(event.payload)}
        changed = tuple(values)
    values[_key(table)] = object_id
    statement = _newest_wins(dialect_of(session), table, changed)
    applied = session.execute(statement, values).first() is not None
    return Outcome.HANDLED if applied else Outcome.SUPERSEDED


def sync_children(
    session: Session,
    table: Table,
    parent: Mapping[str, str],
    key: str,
    rows: Mapping[str, Mapping[str, str]],
) -> None:
    """Make ``table``'s rows under ``parent`` exactly ``rows`` (key → values).

    Rows keep their identity (updated in place by key), so an ERP reading them by id sees
    the same row change rather than a new one appear.
    """
    ((parent_column, parent_id),) = parent.items()
    if rows:
        value_columns = tuple(next(iter(rows.values())))
        statement = _upsert_children(
            dialect_of(session), table, (parent_column, key), value_columns
        )
        session.execute(
            statement,
            [
                {parent_column: parent_id, key: row_key, **values}
                for row_key, values in rows.items()
            ],
        )
    session.execute(
        _delete_other_children(table, parent_column, key),
        {"parent": parent_id, "keep": list(rows)},
    )


def _key(table: Table) -> str:
    return next(iter(table.primary_key.columns)).name


@cache
def _newest_wins(dialect: str, table: Table, changed: tuple[str, ...]) -> Executable:
    """Insert, or update the ``changed`` columns only if the stored copy is not newer."""
    key = _key(table)
    statement = insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=[key],
        set_={name: statement.excluded[name] for name in changed},
        where=table.c.event_seq <= statement.excluded.event_seq,
    ).returning(table.c[key])


@cache
def _upsert_children(
    dialect: str, table: Table, keys: tuple[str, str], value_columns: tuple[str, ...]
) -> Executable:
    statement = insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: statement.excluded[name] for name in value_columns},
    )


@cache
def _delete_other_children(table: Table, parent_column: str, key: str) -> Executable:
    return delete(table).where(
        table.c[parent_column] == bindparam("parent"),
        table.c[key].not_in(bindparam("keep", expanding=True)),
    )

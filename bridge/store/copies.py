"""The ERP-facing copies' writes: newest event wins, in the statement itself.

Written with one ``INSERT … ON CONFLICT DO UPDATE … WHERE event_seq <= new`` per object, so
the "is a newer event already in?" check and the write are one statement that a concurrent
run cannot slip between. The statements are built once per table and shape and reused, so
an event costs its SQL and little else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bridge.store.bulk import execute_many
from bridge.store.models import Customer, Order, Product, table_of
from bridge.store.upsert import dialect_of, insert_for

#: A local copy that keeps the whole object as its last event showed it.
Copy = type[Customer] | type[Product] | type[Order]


def write_newest(
    session: Session, table: Table, values: dict[str, Any], changed: tuple[str, ...]
) -> bool:
    """Insert the copy in ``values``, or update its ``changed`` columns, unless the stored
    copy comes from a newer event; False when it did (nothing was written)."""
    statement = _newest_wins(dialect_of(session), table, changed, returning=True)
    return session.execute(statement, {**values}).first() is not None


@dataclass(frozen=True, slots=True)
class CopyState:
    """What a copy's row holds, for deciding before writing a batch whether an event is newer."""

    event_seq: int
    deleted: bool
    data: dict[str, Any]


def write_newest_many(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], changed: tuple[str, ...]
) -> None:
    """``write_newest`` for many objects (one row each) in one executemany.

    Which rows are newer is for the caller to know (``states`` in the same transaction);
    the statement still writes none over a newer copy.
    """
    if rows:
        execute_many(session, _newest_wins(dialect_of(session), table, changed), rows)


def states(
    session: Session, model: Copy, object_ids: Collection[str], *, with_data: bool = True
) -> dict[str, CopyState]:
    """The stored copies of ``object_ids`` in one read (absent ids are not in the answer);
    without ``with_data`` their ``data`` is left unread (given as {})."""
    if not object_ids:
        return {}
    rows = (
        session.connection()
        .execute(_states(table_of(model), with_data), {"ids": list(object_ids)})
        .all()
    )
    return {row[0]: CopyState(row[1], row[2], row[3] or {}) for row in rows}


@cache
def _states(table: Table, with_data: bool) -> Executable:
    key = table.c[key_column(table)]
    data = table.c.data if with_data else literal(None)
    return select(key, table.c.event_seq, table.c.deleted, data).where(
        key.in_(bindparam("ids", expanding=True))
    )


def previous(
    session: Session, model: Copy, object_id: str, before_seq: int
) -> dict[str, Any] | None:
    """The object as the last event older than ``before_seq`` left it (None: never seen,
    deleted, or only a newer event is in)."""
    # A query, not session.get: the copies are written with plain SQL, past the identity map.
    key = table_of(model).c[key_column(table_of(model))]
    row = session.execute(
        select(model.data, model.deleted, model.event_seq).where(key == object_id)
    ).first()
    if row is None or row.deleted or row.event_seq >= before_seq:
        return None
    data: dict[str, Any] = row.data
    return data


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


def sync_children_many(
    session: Session,
    table: Table,
    parent_column: str,
    key: str,
    rows_by_parent: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> None:
    """``sync_children`` for many parents at once: one read of the keys they have, one
    upsert, and a delete only when a parent lost a row (an order line removed)."""
    if not rows_by_parent:
        return
    held = (
        session.connection()
        .execute(_children_keys(table, parent_column, key), {"parents": list(rows_by_parent)})
        .all()
    )
    gone = [
        {"the_parent": parent_id, "the_key": row_key}
        for parent_id, row_key in held
        if row_key not in rows_by_parent[parent_id]
    ]
    execute_many(session, _delete_child(table, parent_column, key), gone)
    rows = [
        {parent_column: parent_id, key: row_key, **values}
        for parent_id, children in rows_by_parent.items()
        for row_key, values in children.items()
    ]
    if rows:
        value_columns = tuple(column for column in rows[0] if column not in (parent_column, key))
        statement = _upsert_children(
            dialect_of(session), table, (parent_column, key), value_columns
        )
        execute_many(session, statement, rows)


def key_column(table: Table) -> str:
    """The name of the copy's own id column."""
    return next(iter(table.primary_key.columns)).name


@cache
def _newest_wins(
    dialect: str, table: Table, changed: tuple[str, ...], *, returning: bool = False
) -> Executable:
    """Insert, or update the ``changed`` columns only if the stored copy is not newer;
    ``returning``: the statement returns the id when it wrote."""
    key = key_column(table)
    statement = insert_for(dialect, table)
    upsert = statement.on_conflict_do_update(
        index_elements=[key],
        set_={name: statement.excluded[name] for name in changed},
        where=table.c.event_seq <= statement.excluded.event_seq,
    )
    return upsert.returning(table.c[key]) if returning else upsert


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


@cache
def _children_keys(table: Table, parent_column: str, key: str) -> Executable:
    return select(table.c[parent_column], table.c[key]).where(
        table.c[parent_column].in_(bindparam("parents", expanding=True))
    )


@cache
def _delete_child(table: Table, parent_column: str, key: str) -> Executable:
    return delete(table).where(
        table.c[parent_column] == bindparam("the_parent"), table.c[key] == bindparam("the_key")
    )

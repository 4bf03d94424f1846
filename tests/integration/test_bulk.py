"""``bridge.store.bulk.execute_many`` stores what SQLAlchemy's own executemany stores: the same
JSON, times, booleans and column defaults, byte for byte (SQLite file and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text, update

from bridge.store import Store
from bridge.store.bulk import execute_many
from bridge.store.models import Customer, table_of
from bridge.store.upsert import insert_for

_CUSTOMERS = table_of(Customer)
_AT = datetime(2026, 12, 7, 16, 29, 5, 123456, tzinfo=UTC)


def _rows(prefix: str) -> list[dict[str, Any]]:
    """Two customers with every kind of value; ``lastname`` and ``country`` left to their
    defaults, one ``data`` holding text JSON must escape."""
    return [
        {
            "customer_id": f"{prefix}1",
            "email": "ada@example.com",
            "firstname": "Åsa",
            "deleted": False,
            "data": {"note": 'quote " and ü', "tags": ["a", "b"]},
            "event_seq": 7,
            "updated_at": _AT,
        },
        {
            "customer_id": f"{prefix}2",
            "email": "",
            "firstname": "Grace",
            "deleted": True,
            "data": {},
            "event_seq": 8,
            "updated_at": _AT,
        },
    ]


def _stored(store: Store, prefix: str) -> list[tuple[Any, ...]]:
    """The rows as the database holds them, read past every type's result processing."""
    with store.transaction() as session:
        rows = session.execute(
            text(
                "SELECT email, firstname, lastname, country, CAST(deleted AS INTEGER),"
                " CAST(data AS TEXT), event_seq, CAST(updated_at AS TEXT) FROM customers"
                " WHERE customer_id LIKE :prefix ORDER BY customer_id"
            ),
            {"prefix": f"{prefix}%"},
        )
        return [tuple(row) for row in rows]


def test_insert_stores_what_sqlalchemy_stores(store: Store) -> None:
    with store.transaction() as session:
        dialect = session.get_bind().dialect.name
        statement = insert_for(dialect, _CUSTOMERS)
        session.execute(statement, _rows("orm-"))
        execute_many(session, statement, _rows("bulk-"))
    through_sqlalchemy, through_driver = _stored(store, "orm-"), _stored(store, "bulk-")
    assert through_driver == through_sqlalchemy
    assert [row[2:4] for row in through_driver] == [("", ""), ("", "")]  # the defaults


def test_update_binds_by_name_and_keeps_the_statements_own_values(store: Store) -> None:
    """An update whose parameters are not column names, with a value of its own (``+ 1``)."""
    with store.transaction() as session:
        execute_many(session, insert_for(session.get_bind().dialect.name, _CUSTOMERS), _rows("u-"))
        execute_many(
            session,
            update(_CUSTOMERS)
            .where(_CUSTOMERS.c.customer_id == bindparam("the_id"))
            .values(event_seq=_CUSTOMERS.c.event_seq + 1, email=bindparam("the_email")),
            [
                {"the_id": "u-1", "the_email": "ada@lovelace.example"},
                {"the_id": "u-2", "the_email": "grace@hopper.example"},
            ],
        )
        found = session.execute(
            text("SELECT customer_id, email, event_seq FROM customers ORDER BY customer_id")
        ).all()
    assert [tuple(row) for row in found] == [
        ("u-1", "ada@lovelace.example", 8),
        ("u-2", "grace@hopper.example", 9),
    ]


def test_no_rows_send_nothing(store: Store) -> None:
    with store.transaction() as session:
        execute_many(session, insert_for(session.get_bind().dialect.name, _CUSTOMERS), [])
        assert session.execute(text("SELECT count(*) FROM customers")).scalar() == 0

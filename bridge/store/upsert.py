"""INSERT … ON CONFLICT for the database at hand (SQLite and PostgreSQL spell it alike)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's ``insert(table)``, which has ``on_conflict_do_*`` and ``excluded``."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

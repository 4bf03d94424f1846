"""The database sink: one row per delivered event in a staging table the ERP reads.

The table lives in the ERP's database (any SQLAlchemy URL), is created by the bridge on first
use, and holds one row per event id: a redelivery finds the row and adds nothing. The ERP
marks what it has taken over in ``picked_up_at``; the bridge never changes a row again.
"""

from __future__ import annotations

import json

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    exists,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bridge.clock import utcnow
from bridge.handlers.base import EventRecord
from bridge.store.engine import make_engine


def staging_table(name: str, metadata: MetaData) -> Table:
    """The staging table's shape: ids to find rows by, the object as JSON and as Centra's XML."""
    return Table(
        name,
        metadata,
        Column("seq", Integer, primary_key=True),
        Column("event_id", String(255), nullable=False, unique=True),
        Column("event_type", String(64), nullable=False),
        Column("object_id", String(255), nullable=False, index=True),
        Column("mission", String(32), nullable=False),
        Column("event_date", String(64), nullable=False),
        Column("payload_json", Text, nullable=False),
        Column("xml", Text, nullable=False),
        #: UTC.
        Column("delivered_at", DateTime, nullable=False),
        #: Set by the ERP once it has taken the row over; NULL until then.
        Column("picked_up_at", DateTime, nullable=True),
    )


class DatabaseSink:
    """Inserts each event into ``table`` of the database at ``url``."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = staging_table(table, MetaData())
        self._engine: Engine | None = None

    def _ready(self) -> Engine:
        """Connect and create the table on first delivery, not when the bridge starts."""
        if self._engine is None:
            engine = _engine(self.url)
            self.table.metadata.create_all(engine, checkfirst=True)
            self._engine = engine
        return self._engine

    def __call__(self, event: EventRecord) -> None:
        engine = self._ready()
        try:
            with engine.begin() as connection:
                present = connection.scalar(
                    select(exists().where(self.table.c.event_id == event.event_id))
                )
                if not present:
                    connection.execute(self.table.insert().values(**_row(event)))
        except IntegrityError:
            # Another process delivered the same event in between: it is there, as wanted.
            with engine.connect() as connection:
                if not connection.scalar(
                    select(exists().where(self.table.c.event_id == event.event_id))
                ):
                    raise

    def destination(self, event: EventRecord) -> str:
        """The table and database (password hidden) the event's row is in."""
        where = make_url(self.url).render_as_string(hide_password=True)
        return f"table {self.table.name} in {where}, event_id {event.event_id}"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _engine(url: str) -> Engine:
    """The bridge's own set-up on SQLite and PostgreSQL; plain SQLAlchemy for other databases."""
    if make_url(url).get_backend_name() in ("sqlite", "postgresql"):
        return make_engine(url)
    return create_engine(url, pool_pre_ping=True)


def _row(event: EventRecord) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "event_type": event.type,
        "object_id": event.object_id,
        "mission": event.mission,
        "event_date": event.date_iso,
        "payload_json": json.dumps(event.payload, ensure_ascii=False),
        "xml": event.xml,
        "delivered_at": utcnow().replace(tzinfo=None),
    }

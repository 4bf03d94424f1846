"""The tables: events as Centra sent them, the id map, the outbox, and the ERP-facing copies."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Named constraints, so migrations can alter them on SQLite too (batch mode).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Longest id any table keeps (ERP ids, Centra ids, event ids).
MAX_ID_CHARS = 255
#: Centra's request ids (``X-Centra-Request-ID``) are kept up to this length.
MAX_REQUEST_ID_CHARS = 128
ID = String(MAX_ID_CHARS)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def cut(value: str | None, length: int) -> str | None:
    """``value`` at most ``length`` characters: metadata Centra sends too long for its column
    is kept in part rather than failing the whole transaction (PostgreSQL enforces lengths)."""
    return value if value is None or len(value) <= length else value[:length]


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, typed as one (``__table__`` is typed as a FromClause)."""
    return Base.metadata.tables[model.__tablename__]


class EventStatus(StrEnum):
    """Where an event is in its life; every stored event ends acknowledged whatever its status."""

    NEW = "new"
    HANDLED = "handled"
    IGNORED = "ignored"
    #: A newer event for the same object was handled first; this one must not roll it back.
    SUPERSEDED = "superseded"
    FAILED = "failed"
    DEAD = "dead"
    #: Set aside by a person (``events skip``), the reason in ``note``; never handled again
    #: unless retried or replayed.
    SKIPPED = "skipped"


#: Statuses whose events still wait for a handler.
PENDING = (EventStatus.NEW, EventStatus.FAILED)


class OutboxStatus(StrEnum):
    """Where an ERP update is; ``queued`` and ``failed`` ones are sent when due."""

    QUEUED = "queued"
    #: Checked and stored while the rest of its input is read; never sent. Queued all at once
    #: when the whole input is good, deleted when it is not (or when a crash left it behind).
    STAGED = "staged"
    SENT = "sent"
    #: Centra said no (``success=false``) or could not be reached; tried again after a back-off.
    FAILED = "failed"
    #: Out of attempts, or refused for good; ``push --retry`` queues it again.
    DEAD = "dead"
    #: Set aside by a person (``outbox skip``), the reason in ``note``; never sent.
    SKIPPED = "skipped"


class CentraResponse(Base):
    """An events_Get answer body exactly as Centra sent it, kept for audit and support."""

    __tablename__ = "centra_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(MAX_REQUEST_ID_CHARS))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class StoredEvent(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_events_type_entry", "type", "entry"),
        Index("ix_events_acknowledged_at", "acknowledged_at"),
        # Looked up by the event id alone (events show ID, retry, the console's search).
        Index("ix_events_event_id", "event_id"),
        # Each transport numbers its events on its own: the two id spaces never mix.
        UniqueConstraint("transport", "event_id", name="uq_events_transport"),
    )

    #: Local arrival order; Centra hands events out oldest first, so this is Centra's order too.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Which of Centra's APIs sent the event ("soap", "graphql"): its id is unique within it.
    transport: Mapped[str] = mapped_column(String(16), default="soap", server_default="soap")
    event_id: Mapped[str] = mapped_column(ID)
    type: Mapped[str] = mapped_column(String(64))
    entry: Mapped[str] = mapped_column(ID)
    mission: Mapped[str] = mapped_column(String(32))
    centra_date: Mapped[str] = mapped_column(String(64))
    payload_kind: Mapped[str] = mapped_column(String(64))
    #: The event as Centra sent it (secrets masked); handlers read their payload from it.
    xml: Mapped[str] = mapped_column(Text)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("centra_responses.id"))
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.NEW)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: The event only showed back a push of the bridge's own: no custom handler or sink saw it.
    echo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Where the type's sink delivered the event (a file, a table, a callable), when it did.
    delivered_to: Mapped[str | None] = mapped_column(Text)
    #: What a person did by hand and why (``events retry``, ``events skip --reason``).
    note: Mapped[str | None] = mapped_column(Text)


class IdMapping(Base):
    """ERP id ↔ Centra id of one object; unique in both directions."""

    __tablename__ = "id_map"
    __table_args__ = (
        UniqueConstraint("entity_type", "erp_id", name="uq_id_map_erp"),
        UniqueConstraint("entity_type", "centra_id", name="uq_id_map_centra"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    #: None for a Centra id seen in an event that no ERP id is linked to yet.
    erp_id: Mapped[str | None] = mapped_column(ID)
    centra_id: Mapped[str] = mapped_column(ID)
    #: "erp", "centra" or "manual": who made this mapping known.
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxRecord(Base):
    """One ERP update waiting for, or answered by, Centra."""

    __tablename__ = "outbox"
    __table_args__ = (
        # Due records are read per status in id order, a batch at a time: the index hands
        # them out in that order, so a batch never reads (or sorts) the whole queue.
        Index("ix_outbox_status_id", "status", "id"),
        Index("ix_outbox_entity_type_erp_id", "entity_type", "erp_id"),
        Index("ix_outbox_entity_type_centra_id", "entity_type", "centra_id"),
        Index("ix_outbox_input_key", "input_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    erp_id: Mapped[str] = mapped_column(ID)
    #: The id the record was last sent under (the ERP id translated through the id map).
    centra_id: Mapped[str | None] = mapped_column(ID)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    #: Names the input (a drop-directory file) the record came from, so it is queued once.
    input_key: Mapped[str | None] = mapped_column(String(255))
    #: Centra's ``X-Centra-Request-ID`` of the last answer, for support cases.
    request_id: Mapped[str | None] = mapped_column(String(MAX_REQUEST_ID_CHARS))
    #: The first Centra event that showed this push back (not delivered if that was all it did).
    echo_event_id: Mapped[str | None] = mapped_column(ID)
    #: What a person did by hand and why (``outbox retry``, ``outbox skip --reason``).
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Order(Base):
    """The ERP-facing copy of a Centra order, rebuilt from the newest event for it."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(ID, primary_key=True)
    ordernumber: Mapped[str] = mapped_column(ID, default="")
    order_type: Mapped[str] = mapped_column(String(32), default="")
    store: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(8), default="")
    ordertotal: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[str] = mapped_column(String(64), default="")
    customer_id: Mapped[str] = mapped_column(ID, default="")
    account_id: Mapped[str] = mapped_column(ID, default="")
    market_id: Mapped[str] = mapped_column(ID, default="")
    locked: Mapped[str] = mapped_column(String(8), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The event this copy was last written from; an older event never overwrites it.
    event_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    shipments: Mapped[list[OrderShipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderShipment.id"
    )


class OrderLine(Base):
    """One size row of an order, addressed by Centra's order-item id."""

    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_key", name="uq_order_lines_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    line_key: Mapped[str] = mapped_column(ID)
    product_id: Mapped[str] = mapped_column(ID, default="")
    variation_id: Mapped[str] = mapped_column(ID, default="")
    size_id: Mapped[str] = mapped_column(ID, default="")
    sku: Mapped[str] = mapped_column(ID, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    qty: Mapped[str] = mapped_column(String(32), default="")
    price: Mapped[str] = mapped_column(String(64), default="")
    qty_cancelled: Mapped[str] = mapped_column(String(32), default="0")
    qty_shipped: Mapped[str] = mapped_column(String(32), default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderShipment(Base):
    __tablename__ = "order_shipments"
    __table_args__ = (UniqueConstraint("order_id", "shipment_id", name="uq_order_shipments_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    shipment_id: Mapped[str] = mapped_column(ID)
    shipped: Mapped[str] = mapped_column(String(8), default="")
    paid: Mapped[str] = mapped_column(String(8), default="")
    created: Mapped[str] = mapped_column(String(64), default="")
    carrier: Mapped[str] = mapped_column(String(255), default="")
    tracking: Mapped[str] = mapped_column(String(255), default="")

    order: Mapped[Order] = relationship(back_populates="shipments")


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    firstname: Mapped[str] = mapped_column(String(255), default="")
    lastname: Mapped[str] = mapped_column(String(255), default="")
    country: Mapped[str] = mapped_column(String(8), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    event_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Product(Base):
    __tablename__ = "products"

    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    sku: Mapped[str] = mapped_column(ID, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    event_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BridgeState(Base):
    """Moments the bridge records about itself (last successful poll, last failed one)."""

    __tablename__ = "bridge_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(Text)


#: The ERP-facing copies of master data, by the event type that writes them.
MASTER_DATA_COPIES: dict[str, type[Customer] | type[Product]] = {
    "customer": Customer,
    "product": Product,
}

"""Handlers a batch at a time: the same copies and statuses as one event at a time, in a
handful of statements, and a bad event still failing alone (SQLite file and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from event_xml import make_event as event
from sqlalchemy import event as sqla_event
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_handlers import dispatcher, order, put
from test_sinks import CUSTOMER, PASSWORD, drain, open_app, statuses

from bridge import queue_updates
from bridge.centra.port import Event
from bridge.handlers.base import BatchHandler, EventRecord, Outcome
from bridge.handlers.customer import handle_customer
from bridge.handlers.delivery import with_delivery
from bridge.handlers.order import handle_order
from bridge.handlers.registry import Registry
from bridge.simulator import Simulator
from bridge.store import Store
from bridge.store.models import (
    Customer,
    IdMapping,
    Order,
    OrderLine,
    OrderShipment,
    OutboxRecord,
    StoredEvent,
)


def mixed_events() -> list[Event]:
    """Orders seen twice and deleted, customers, a line that goes away, a bad quantity."""
    shipped = order(
        "30",
        "shipped",
        shipments=[
            {
                "id": "30-1",
                "shipped": "yes",
                "products": [
                    {
                        "id": "TURTLE001",
                        "variation": {"id": "RED"},
                        "sizes": [{"id": "S", "qty": "2", "orderitem": {"id": "101"}}],
                    }
                ],
            }
        ],
    )
    one_line = order("31", "confirmed")
    one_line["products"][0]["sizes"] = one_line["products"][0]["sizes"][:1]
    bad = order("32", "confirmed")
    bad["products"][0]["sizes"][0]["qty"] = "two"
    return [
        event("1", "order", order("30", "confirmed")),
        event("2", "customer", {"id": "77", "email": "ada@example.com"}),
        event("3", "order", order("31", "confirmed")),
        event("4", "order", shipped),
        event("5", "order", bad),
        event("6", "customer", {"id": "78", "email": "grace@example.com"}),
        event("7", "order", one_line),
        event("8", "customer", {"id": "77"}, "delete"),
        event("9", "warehouse", {"id": "W1"}),
        event("10", "order", order("33", "confirmed")),
        event("11", "order", {"id": "33"}, "delete"),
    ]


def one_at_a_time() -> Registry:
    """The built-ins as plain callables: no batches, the path every event took before."""
    return Registry({"order": handle_order, "customer": handle_customer})


def copies(store: Store, first_seq: int) -> dict[str, Any]:
    """Everything the handlers wrote and decided, without ids and times; which event wrote
    a copy as its place among the events stored."""
    with store.transaction() as session:
        orders = _rows(session, Order, "order_id", "status", "deleted", "event_seq")
        customers = _rows(session, Customer, "customer_id", "email", "deleted", "event_seq")
        return {
            "orders": [(*row[:-1], row[-1] - first_seq) for row in orders],
            "lines": _rows(session, OrderLine, "order_id", "line_key", "qty", "qty_shipped"),
            "shipments": _rows(session, OrderShipment, "order_id", "shipment_id", "shipped"),
            "customers": [(*row[:-1], row[-1] - first_seq) for row in customers],
            "id_map": _rows(session, IdMapping, "entity_type", "centra_id", "origin"),
            "events": _rows(session, StoredEvent, "event_id", "status", "attempts", "last_error"),
        }


def _rows(session: Session, model: Any, *names: str) -> list[tuple[Any, ...]]:
    columns = [getattr(model, name) for name in names]
    return [tuple(row) for row in session.execute(select(*columns).order_by(*columns))]


def test_batch_leaves_what_one_event_at_a_time_leaves(database_url: str) -> None:
    """The same events through the batch path and through plain per-event handlers: the same
    copies, lines, id map and statuses; the bad order fails alone with its own error."""
    results = []
    for registry in (Registry.from_config({}), one_at_a_time()):
        store = Store.open(database_url)
        try:
            with store.transaction() as session:
                for model in (OrderLine, OrderShipment, Order, Customer, IdMapping, StoredEvent):
                    session.query(model).delete()
            seqs = put(store, *mixed_events())
            wrapped = with_delivery(registry, {}, echo_window_s=3600)
            counts = dispatcher(store, wrapped).run(seqs)
            results.append((counts, copies(store, seqs[0])))
        finally:
            store.close()
    (batch_counts, batch), (single_counts, single) = results
    assert batch_counts == single_counts == {"handled": 9, "failed": 1, "ignored": 1}
    assert batch == single
    failed = [row for row in batch["events"] if row[1] == "failed"]
    assert failed == [
        ("5", "failed", 1, "ValueError: order 32 line 101: quantity 'two' is not a number")
    ]
    assert ("31", "101", "2", "0") in batch["lines"]
    assert not [line for line in batch["lines"] if line[:2] == ("31", "102")]
    assert ("30", "30-1", "yes") in batch["shipments"]


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every statement the store's engine sends while the block runs."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    sqla_event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sqla_event.remove(store.engine, "before_cursor_execute", note)


def test_a_hundred_orders_take_a_handful_of_statements(store: Store) -> None:
    """A full batch of orders and customers: the handlers' statements do not grow with it,
    which on a PostgreSQL server across a network is what each event waits for."""
    events = [
        event(str(number), "order", order(str(1000 + number), "confirmed"))
        if number % 2
        else event(str(number), "customer", {"id": str(number)})
        for number in range(100)
    ]
    seqs = put(store, *events)
    registry = with_delivery(Registry.from_config({}), {}, echo_window_s=3600)
    with statements(store) as seen:
        counts = dispatcher(store, registry).run(seqs)
    assert counts == {"handled": 100}
    assert len(seen) <= 25, seen
    with store.transaction() as session:
        assert session.query(OrderLine).count() == 100
        assert session.query(IdMapping).count() == 50


def test_a_later_batch_drops_a_gone_line_and_keeps_the_others_in_place(store: Store) -> None:
    """An order stored by one batch with two lines comes back in a later batch with one (and
    an order never seen before beside it): the gone row is deleted, the kept row is the same
    row updated, the other order's rows are written, nothing else is touched."""
    registry = with_delivery(Registry.from_config({}), {}, echo_window_s=3600)
    counts = dispatcher(store, registry).run(put(store, event("1", "order", order("40", "new"))))
    assert counts == {"handled": 1}
    with store.transaction() as session:
        kept = session.execute(select(OrderLine.line_key, OrderLine.id))
        before = {key: row_id for key, row_id in kept}
    assert set(before) == {"101", "102"}
    one_line = order("40", "confirmed")
    one_line["products"][0]["sizes"] = one_line["products"][0]["sizes"][:1]
    one_line["products"][0]["sizes"][0]["qty"] = "3"
    later = put(store, event("2", "order", one_line), event("3", "order", order("41", "new")))
    assert dispatcher(store, registry).run(later) == {"handled": 2}
    with store.transaction() as session:
        rows = session.execute(
            select(OrderLine.order_id, OrderLine.line_key, OrderLine.id, OrderLine.qty)
        ).all()
    assert sorted((order_id, key, qty) for order_id, key, _, qty in rows) == [
        ("40", "101", "3"),
        ("41", "101", "2"),
        ("41", "102", "1"),
    ]
    assert [row.id for row in rows if row.order_id == "40"] == [before["101"]]


class RecordingBatchHandler:
    """A site's batch handler: notes what it was given; fails any batch holding order 32."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.alone: list[str] = []

    def __call__(self, session: Session, event: EventRecord) -> Outcome | None:
        self.alone.append(event.object_id)
        if event.object_id == "32":
            raise RuntimeError("ERP rejected order 32")
        return None

    def handle_batch(
        self, session: Session, events: Sequence[EventRecord]
    ) -> Sequence[Outcome | None]:
        self.batches.append([event.object_id for event in events])
        if any(event.object_id == "32" for event in events):
            raise RuntimeError("ERP rejected order 32")
        return [None] * len(events)


def test_site_batch_handler_gets_its_type_in_order_and_falls_back_alone(store: Store) -> None:
    """A site's BatchHandler gets its type's events oldest first; a batch it fails is run
    again one event at a time, and only the bad event fails."""
    handler = RecordingBatchHandler()
    assert isinstance(handler, BatchHandler)
    registry = Registry({"order": handler})
    first = put(store, event("1", "order", order("30", "a")), event("2", "order", order("31", "a")))
    assert dispatcher(store, registry).run(first) == {"handled": 2}
    assert (handler.batches, handler.alone) == ([["30", "31"]], [])
    second = put(
        store,
        event("3", "order", order("31", "b")),
        event("4", "order", order("32", "b")),
        event("5", "order", order("33", "b")),
    )
    assert dispatcher(store, registry).run(second) == {"handled": 2, "failed": 1}
    assert handler.batches[1:] == [["31", "32", "33"]]
    assert handler.alone == ["31", "32", "33"]
    with store.transaction() as session:
        failed = session.get_one(StoredEvent, second[1])
        assert failed.last_error == "RuntimeError: ERP rejected order 32"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=9) as running:
        yield running


def test_echo_and_a_real_change_in_one_batch(simulator: Simulator, database_url: str) -> None:
    """A push's echo and a real change after it reach the bridge in one batch (no sink, so
    the batch path): the echo is marked as one and claims the push, the change is not, and
    the copy ends with the change."""
    simulator.add_event("customer", CUSTOMER)
    app = open_app(simulator, database_url, {})
    try:
        drain(app)
        with app.store.transaction() as session:
            session.scalars(select(IdMapping)).one().erp_id = "C1001"
        queue_updates(
            app.store, app.codec, [{"type": "customer", "id": "C1001", "firstname": "Augusta"}]
        )
        assert app.outbox().push_due().sent == 1
        echo = simulator.add_event("customer", {**CUSTOMER, "firstname": "Augusta"})
        change = simulator.add_event(
            "customer", {**CUSTOMER, "firstname": "Augusta", "email": "augusta@example.com"}
        )
        drain(app)
        with app.store.transaction() as session:
            pushed = session.scalars(select(OutboxRecord)).one()
            marked = dict(session.execute(select(StoredEvent.event_id, StoredEvent.echo)).all())
            copy = session.get_one(Customer, "4711")
        seen = statuses(app)
    finally:
        app.close()
    assert (seen[echo], seen[change]) == ("handled", "handled")
    assert (marked[echo], bool(marked[change])) == (True, False)
    assert pushed.echo_event_id == echo
    assert (copy.firstname, copy.email) == ("Augusta", "augusta@example.com")

"""Handlers and the dispatcher on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from event_xml import main_codec, make_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.centra.port import Event, EventPage
from bridge.handlers.base import EventRecord, PermanentError
from bridge.handlers.delivery import with_delivery
from bridge.handlers.registry import HandlerLoadError, Registry, load_handler
from bridge.handlers.sinks.directory import DirectorySink
from bridge.inbox.dispatch import Dispatcher
from bridge.retry import RetryPolicy
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.models import Customer, Order, OrderLine, StoredEvent

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def order(order_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "ordernumber": order_id,
        "type": "retail",
        "store": "1",
        "status": status,
        "currency": "EUR",
        "ordertotal": "1135.00",
        "customer": {"id": "77", "description": "Ada Lovelace"},
        "products": [
            {
                "id": "TURTLE001",
                "price": "500.00",
                "description": "Turtleneck",
                "variation": {"id": "RED"},
                "sizes": [
                    {"id": "S", "sku": "TURTLE001RED01", "qty": "2", "orderitem": {"id": "101"}},
                    {"id": "M", "sku": "TURTLE001RED02", "qty": "1", "orderitem": {"id": "102"}},
                ],
            }
        ],
        **extra,
    }


event = make_event


def put(store: Store, *events: Event) -> list[int]:
    """Store events as one page from Centra would be stored."""
    with store.transaction() as session:
        page = EventPage(events=list(events), raw=b"<page/>")
        return repo.store_page(session, page, "events_Get", NOW).new_seqs


def dispatcher(store: Store, registry: Registry | None = None, **policy: Any) -> Dispatcher:
    settings = {"base_s": 60.0, "max_s": 600.0, "max_attempts": 3} | policy
    return Dispatcher(
        store,
        registry or Registry.from_config({}),
        RetryPolicy(**settings),
        main_codec(),
        rng=random.Random(1),
        clock=lambda: NOW,
    )


def lines(session: Session, order_id: str) -> dict[str, tuple[str, str, str]]:
    rows = session.scalars(select(OrderLine).where(OrderLine.order_id == order_id))
    return {row.line_key: (row.qty, row.qty_cancelled, row.qty_shipped) for row in rows}


def test_order_copy_follows_later_events(store: Store) -> None:
    """A shipment and a cancellation in later events show in the order's lines."""
    shipped = order(
        "30",
        "processing",
        cancelled=[
            {
                "id": "TURTLE001",
                "variation": {"id": "RED"},
                "sizes": [{"id": "M", "qty": "1", "orderitem": {"id": "102"}}],
            }
        ],
        shipments=[
            {
                "id": "30-1",
                "shipped": "yes",
                "paid": "yes",
                "carrierinformation": {"carrier": "DHL", "tracking": "JJD01"},
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
    seqs = put(store, event("1", "order", order("30", "confirmed")), event("2", "order", shipped))
    counts = dispatcher(store).run(seqs)
    assert counts == {"handled": 2}
    with store.transaction() as session:
        copy = session.get_one(Order, "30")
        assert (copy.status, copy.customer_id, copy.ordertotal) == ("processing", "77", "1135.00")
        assert lines(session, "30") == {"101": ("2", "0", "2"), "102": ("1", "1", "0")}
        assert [(s.shipment_id, s.carrier, s.tracking) for s in copy.shipments] == [
            ("30-1", "DHL", "JJD01")
        ]


def test_older_event_never_overwrites_newer(store: Store) -> None:
    """An event handled after a newer one for the same order is superseded, not applied."""
    seqs = put(
        store,
        event("1", "order", order("30", "confirmed")),
        event("2", "order", order("30", "completed")),
    )
    work = dispatcher(store)
    assert work.run([seqs[1]]) == {"handled": 1}
    assert work.run([seqs[0]]) == {"superseded": 1}
    with store.transaction() as session:
        assert session.get_one(Order, "30").status == "completed"


def test_replay_keeps_the_record_of_a_delivery(store: Store, tmp_path: Path) -> None:
    """Replaying an order event that was delivered, after a newer one for the same order,
    changes nothing and leaves it handled with its delivery, not superseded."""
    sink = DirectorySink(tmp_path, "json")
    registry = with_delivery(Registry.from_config({}), {"order": sink}, 60.0)
    seqs = put(
        store,
        event("1", "order", order("30", "confirmed")),
        event("2", "order", order("30", "completed")),
    )
    work = dispatcher(store, registry)
    assert work.run(seqs) == {"handled": 2}
    assert work.run([seqs[0]], replay=True) == {"handled": 1}
    with store.transaction() as session:
        assert session.get_one(Order, "30").status == "completed"
        first = session.get_one(StoredEvent, seqs[0])
        assert (first.status, first.echo) == ("handled", False)
        assert first.delivered_to == f"file {tmp_path / 'order_30_1.json'}"


def test_handling_twice_is_handling_once(store: Store) -> None:
    """Replaying a handled event leaves the same rows, not doubled lines."""
    seqs = put(store, event("1", "order", order("30", "confirmed")))
    work = dispatcher(store)
    work.run(seqs)
    assert work.run(seqs) == {}, "a handled event is not run again outside replay"
    assert work.run(seqs, replay=True) == {"handled": 1}
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 2
        assert session.scalar(select(func.count()).select_from(Order)) == 1


def test_delete_mission_marks_copy_deleted(store: Store) -> None:
    """mission=delete keeps the row, flagged, so the ERP can see the object went away."""
    seqs = put(
        store,
        event("1", "customer", {"id": "77", "email": "ada@example.com"}),
        event("2", "customer", {"id": "77"}, mission="delete"),
    )
    dispatcher(store).run(seqs)
    with store.transaction() as session:
        customer = session.get_one(Customer, "77")
        assert customer.deleted
        assert customer.email == "ada@example.com"


def test_unknown_types_are_ignored(store: Store) -> None:
    """A warehouse event has no handler: stored and marked ignored."""
    seqs = put(store, event("1", "warehouse", {"id": "W1", "description": "Main"}))
    assert dispatcher(store).run(seqs) == {"ignored": 1}


def broken(session: Session, record: EventRecord) -> None:
    raise RuntimeError(f"ERP rejected order {record.object_id}")


def test_failure_is_recorded_and_does_not_stop_others(store: Store) -> None:
    """One failing event gets status failed with its error; the next one is still handled."""
    registry = Registry(
        {"order": broken, "customer": Registry.from_config({}).for_type("customer")}
    )
    seqs = put(
        store, event("1", "order", order("30", "confirmed")), event("2", "customer", {"id": "77"})
    )
    counts = dispatcher(store, registry).run(seqs)
    assert counts == {"failed": 1, "handled": 1}
    with store.transaction() as session:
        failed = session.get_one(StoredEvent, seqs[0])
        assert failed.status == "failed"
        assert failed.attempts == 1
        assert failed.last_error == "RuntimeError: ERP rejected order 30"
        assert failed.next_attempt_at is not None
        assert NOW + timedelta(seconds=30) <= failed.next_attempt_at <= NOW + timedelta(seconds=60)
        assert session.get(Order, "30") is None, "the failed handler's writes are rolled back"


def test_failed_event_retried_when_due_then_dead(store: Store) -> None:
    """Back-off is honoured; after max_attempts the event is parked as dead."""
    registry = Registry({"order": broken})
    seqs = put(store, event("1", "order", order("30", "confirmed")))
    clock = [NOW]
    work = Dispatcher(
        store,
        registry,
        RetryPolicy(60, 600, 3),
        main_codec(),
        rng=random.Random(1),
        clock=lambda: clock[0],
    )
    assert work.run(seqs) == {"failed": 1}
    assert work.run_due() == {}, "not due before its back-off has passed"
    clock[0] += timedelta(hours=1)
    assert work.run_due() == {"failed": 1}
    clock[0] += timedelta(hours=1)
    assert work.run_due() == {"dead": 1}
    clock[0] += timedelta(hours=1)
    assert work.run_due() == {}, "dead events are not retried on their own"


def test_permanent_error_goes_straight_to_dead(store: Store) -> None:
    """A handler that declares retrying pointless parks the event at once."""

    def refuse(session: Session, record: EventRecord) -> None:
        raise PermanentError("order type not supported by this ERP")

    seqs = put(store, event("1", "order", order("30", "confirmed")))
    assert dispatcher(store, Registry({"order": refuse})).run(seqs) == {"dead": 1}


def test_damaged_stored_xml_parks_that_event_alone(store: Store) -> None:
    """An event whose stored XML cannot be read is dead with the reason; its neighbour runs."""
    damaged = dataclasses.replace(
        event("1", "order", order("30", "confirmed")), xml="<ns1:event><ns1:data>"
    )
    seqs = put(store, damaged, event("2", "order", order("31", "confirmed")))
    assert dispatcher(store).run(seqs) == {"dead": 1, "handled": 1}
    with store.transaction() as session:
        dead = session.scalars(select(StoredEvent).where(StoredEvent.event_id == "1")).one()
        assert dead.status == "dead"
        assert dead.last_error is not None
        assert "stored event XML is not well-formed" in dead.last_error
        assert session.get(Order, "31") is not None


def test_custom_handler_from_dotted_path(store: Store) -> None:
    """A site plugs its ERP in with "module:callable" in [handlers.custom]."""
    registry = Registry.from_config({"warehouse": f"{__name__}:RecordingHandler"})
    seqs = put(store, event("1", "warehouse", {"id": "W1"}))
    assert dispatcher(store, registry).run(seqs) == {"handled": 1}
    handler = registry.for_type("warehouse")
    assert isinstance(handler, RecordingHandler)
    assert handler.seen == ["W1"]


class RecordingHandler:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, session: Session, record: EventRecord) -> None:
        self.seen.append(record.object_id)


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("no_such_module_xyz:handle", "cannot load"),
        ("json:no_such_name", "cannot load"),
        ("json:__doc__", "not callable"),
    ],
)
def test_bad_handler_path_is_named(target: str, problem: str) -> None:
    """A typo in a dotted path is reported with the config key, before anything runs."""
    with pytest.raises(HandlerLoadError, match=rf"\[handlers\] custom.order: .*{problem}"):
        load_handler(target, "[handlers] custom.order")


def test_dedupe_on_event_id(store: Store) -> None:
    """Centra re-sending an un-acknowledged event does not store it twice."""
    first = put(store, event("1", "order", order("30", "confirmed")))
    with store.transaction() as session:
        again = repo.store_page(
            session,
            EventPage(
                events=[
                    event("1", "order", order("30", "confirmed")),
                    event("2", "order", order("31", "confirmed")),
                ],
                raw=b"",
            ),
            "events_Get",
            NOW,
        )
    assert len(first) == 1
    assert again.duplicates == 1
    assert len(again.new_seqs) == 1
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(StoredEvent)) == 2


def test_lines_follow_the_newest_event(store: Store) -> None:
    """A size row gone from a newer event is removed; a changed quantity is updated in place."""
    smaller = order("30", "confirmed")
    smaller["products"][0]["sizes"] = [
        {"id": "S", "sku": "TURTLE001RED01", "qty": "3", "orderitem": {"id": "101"}}
    ]
    seqs = put(store, event("1", "order", order("30", "confirmed")), event("2", "order", smaller))
    work = dispatcher(store)
    work.run(seqs[:1])
    with store.transaction() as session:
        first_row_id = session.scalars(
            select(OrderLine.id).where(OrderLine.line_key == "101")
        ).one()
    work.run(seqs[1:])
    with store.transaction() as session:
        assert lines(session, "30") == {"101": ("3", "0", "0")}
        assert session.scalars(select(OrderLine.id)).all() == [first_row_id]


def test_handler_returning_nonsense_is_a_failure(store: Store) -> None:
    """A custom handler must return an Outcome or None; anything else is recorded as failed."""

    def sloppy(session: Session, record: EventRecord) -> Any:
        return True

    seqs = put(store, event("1", "warehouse", {"id": "W1"}))
    assert dispatcher(store, Registry({"warehouse": sloppy})).run(seqs) == {"failed": 1}
    with store.transaction() as session:
        assert "ValueError" in (session.get_one(StoredEvent, seqs[0]).last_error or "")


def test_attempt_counted_before_handler_runs(store: Store) -> None:
    """An event whose handler never returns (the process died) uses up attempts, then is dead."""
    seqs = put(
        store,
        event("1", "order", order("30", "confirmed")),
        event("2", "order", order("31", "confirmed")),
    )
    work = dispatcher(store, max_attempts=2)
    with store.transaction() as session:
        # What a run that died inside event 1's handler leaves behind, twice over.
        session.get_one(StoredEvent, seqs[0]).attempts = 2
    assert work.run(seqs) == {"dead": 1, "handled": 1}
    with store.transaction() as session:
        poisoned = session.get_one(StoredEvent, seqs[0])
        assert poisoned.status == "dead"
        assert "process died" in (poisoned.last_error or "")
        assert session.get_one(StoredEvent, seqs[1]).attempts == 1


def test_handler_module_that_breaks_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A syntax error in the site's module is one line naming the key, not a traceback."""
    (tmp_path / "site_erp_broken.py").write_text("def handle(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(HandlerLoadError, match=r"custom.order: cannot load .* SyntaxError"):
        load_handler("site_erp_broken:handle", "[handlers] custom.order")


def test_two_rows_with_one_key_fail_loudly(store: Store) -> None:
    """Rows without order-item ids that collide are an error, not a silently lost quantity."""
    doubled = order("30", "confirmed")
    doubled["products"][0]["sizes"] = [{"id": "S", "qty": "1"}, {"id": "S", "qty": "2"}]
    seqs = put(store, event("1", "order", doubled))
    assert dispatcher(store).run(seqs) == {"failed": 1}
    with store.transaction() as session:
        assert "share the key 'TURTLE001/RED/S'" in (
            session.get_one(StoredEvent, seqs[0]).last_error or ""
        )


def test_dispatchers_side_by_side_never_deadlock(database_url: str) -> None:
    """Four dispatchers on one database (replay beside run, each its own connection) handle
    batches that touch the same orders in different orders: none fails, none deadlocks."""
    store = Store.open(database_url)
    rng = random.Random(1)
    seqs = put(
        store,
        *(event(str(n), "order", order(str(rng.randrange(8)), "confirmed")) for n in range(400)),
    )
    store.close()
    outcomes: Counter[str] = Counter()
    chunks = [seqs[start : start + 40] for start in range(0, len(seqs), 40)]

    def replay_all(k: int) -> None:
        own = Store.open(database_url, migrate=False)
        try:
            work = dispatcher(own)
            for chunk in random.Random(k).sample(chunks, len(chunks)):
                outcomes.update(work.run(chunk, replay=True))
        finally:
            own.close()

    threads = [threading.Thread(target=replay_all, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(outcomes.values()) == 4 * len(seqs)
    assert set(outcomes) <= {"handled", "superseded"}, outcomes

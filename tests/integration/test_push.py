"""ERP → Centra: the outbox against the simulator over real HTTP and a real database."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from bridge.app import App
from bridge.config import (
    CentraSettings,
    DatabaseSettings,
    OutboxSettings,
    Secret,
    Settings,
)
from bridge.outbox.idmap import set_mapping
from bridge.outbox.input import InputError
from bridge.outbox.push import Outbox
from bridge.outbox.queue import queue_updates
from bridge.retry import RetryPolicy
from bridge.simulator import Simulator
from bridge.simulator.app import Reply, Request
from bridge.simulator.soap import CENTRA_NS, result_reply
from bridge.store import Store
from bridge.store import idmap as idmap_repo
from bridge.store.idmap import Link
from bridge.store.models import IdMapping, OutboxRecord
from bridge.store.outbox import requeue

PASSWORD = "pw-outbox-5e1d"
NS = {"c": CENTRA_NS}
REFUSAL = "Sizetable 'XL' does not exist"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=11) as running:
        yield running


def settings_for(simulator: Simulator, database_url: str, **outbox: object) -> Settings:
    return Settings(
        centra=CentraSettings(
            endpoint=simulator.url,
            username="erp",
            password=Secret(PASSWORD),
            timeout_s=10,
            max_attempts=1,
        ),
        database=DatabaseSettings(url=database_url),
        outbox=OutboxSettings(**{"retry_base_s": 30.0, "retry_max_s": 60.0, **outbox}),
    )


@pytest.fixture
def app(simulator: Simulator, database_url: str) -> Iterator[App]:
    opened = App.open(settings_for(simulator, database_url, batch_size=10, max_attempts=3))
    try:
        yield opened
    finally:
        opened.close()


class Clock:
    """A clock the test moves on, so back-offs pass without waiting."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def outbox_for(app: App, clock: Clock) -> Outbox:
    return Outbox(
        app.store,
        app.client,
        app.codec,
        app.settings.outbox,
        RetryPolicy.of(app.settings.centra),
        rng=random.Random(1),
        clock=clock,
    )


def records(store: Store) -> list[OutboxRecord]:
    with store.transaction() as session:
        return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


def update_bodies(simulator: Simulator, operation: str) -> list[etree._Element]:
    return [etree.fromstring(call.body) for call in simulator.calls if call.operation == operation]


def refuse_marked(request: Request) -> Reply | None:
    """Centra refusing any update that carries the word BAD, as it answers: success=false."""
    if request.operation.endswith("_Update") and b"BAD" in request.body:
        return Reply(200, result_reply(CENTRA_NS, False, [REFUSAL], ["Checked 1 product"]))
    return None


def test_only_the_given_fields_are_sent(app: App, simulator: Simulator) -> None:
    """A customer with a first name only: Centra gets id and firstname, nothing else."""
    queue_updates(app.store, app.codec, [{"type": "customer", "id": "C1", "firstname": "Ada"}])
    report = app.outbox().push_due()
    assert (report.sent, report.failed, report.calls) == (1, 0, 1)
    (body,) = update_bodies(simulator, "customers_Update")
    (customer,) = body.findall(".//c:customers/c:customer", NS)
    assert [etree.QName(child).localname for child in customer] == ["id", "firstname"]
    assert simulator.customers == {"C1": {"id": "C1", "firstname": "Ada"}}
    (row,) = records(app.store)
    assert (row.status, row.centra_id, row.attempts) == ("sent", "C1", 1)
    assert row.notices == ["Added new customer: C1"]


def test_unmapped_id_is_sent_as_is_and_recorded(app: App, simulator: Simulator) -> None:
    """An ERP id without a mapping goes out unchanged and becomes an "erp" mapping."""
    queue_updates(app.store, app.codec, [{"type": "product", "id": "P7", "sku": "P7"}])
    app.outbox().push_due()
    with app.store.transaction() as session:
        row = session.scalars(select(IdMapping)).one()
    assert (row.entity_type, row.erp_id, row.centra_id, row.origin) == (
        "product",
        "P7",
        "P7",
        "erp",
    )
    assert "P7" in simulator.products


def test_mappings_made_while_the_call_is_out(app: App, simulator: Simulator) -> None:
    """While a batch of unmapped ids is out, the customer event of C1 is handled (Centra id
    C1 waits for its ERP id) and someone maps C2 by hand: C1 is linked, C2's mapping wins,
    C3 is recorded as sent as-is."""

    def meanwhile(request: Request) -> Reply | None:
        if request.operation == "customers_Update":
            now = datetime.now(UTC)
            with app.store.transaction() as session:
                idmap_repo.register_centra(session, "customer", "C1", now)
                set_mapping(session, Link("customer", "C2", "4712", "manual"), now)
        return None

    simulator.faults.append(meanwhile)
    queue_updates(
        app.store,
        app.codec,
        [{"type": "customer", "id": f"C{n}", "firstname": "Bo"} for n in (1, 2, 3)],
    )
    assert app.outbox().push_due().sent == 3
    with app.store.transaction() as session:
        links = {
            link.erp_id: (link.centra_id, link.origin)
            for link in idmap_repo.all_links(session, "customer")
        }
    assert links == {"C1": ("C1", "erp"), "C2": ("4712", "manual"), "C3": ("C3", "erp")}


def test_mapped_id_is_translated(app: App, simulator: Simulator) -> None:
    """The id map turns the ERP's id into the one Centra knows."""
    with app.store.transaction() as session:
        set_mapping(session, Link("customer", "C1001", "4711", "manual"), datetime.now(UTC))
    queue_updates(app.store, app.codec, [{"type": "customer", "id": "C1001", "firstname": "Ada"}])
    app.outbox().push_due()
    assert list(simulator.customers) == ["4711"]
    (row,) = records(app.store)
    assert (row.erp_id, row.centra_id) == ("C1001", "4711")


def test_success_false_keeps_the_record_failed_with_centras_messages(
    app: App, simulator: Simulator
) -> None:
    """A refusal leaves the record failed with Centra's words; after the back-off it goes again."""
    simulator.faults.append(refuse_marked)
    queue_updates(app.store, app.codec, [{"type": "product", "id": "BAD-1", "sku": "x"}])
    clock = Clock()
    report = outbox_for(app, clock).push_due()
    assert (report.sent, report.failed) == (0, 1)
    (row,) = records(app.store)
    assert (row.status, row.attempts, row.errors) == ("failed", 1, [REFUSAL])
    assert row.notices == ["Checked 1 product"]
    assert row.next_attempt_at is not None and row.next_attempt_at > clock.now

    # Not due yet: nothing is sent.
    assert outbox_for(app, clock).push_due().calls == 0
    # Centra's master data is fixed and the back-off has passed: the same record goes again.
    simulator.faults.clear()
    clock.advance(3600)
    assert outbox_for(app, clock).push_due().sent == 1
    (row,) = records(app.store)
    assert (row.status, row.attempts, row.errors) == ("sent", 2, [])
    assert "BAD-1" in simulator.products


def test_refused_record_goes_dead_after_max_attempts(app: App, simulator: Simulator) -> None:
    """Three refusals (max_attempts = 3) park the record as dead; it is kept, not dropped."""
    simulator.faults.append(refuse_marked)
    queue_updates(app.store, app.codec, [{"type": "product", "id": "BAD-2"}])
    clock = Clock()
    for _ in range(3):
        outbox_for(app, clock).push_due()
        clock.advance(3600)
    (row,) = records(app.store)
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 3, None)
    assert outbox_for(app, clock).push_due().calls == 0


def test_refused_batch_is_retried_record_by_record(app: App, simulator: Simulator) -> None:
    """One bad record in a batch of three: one call for the batch, then one per record."""
    simulator.faults.append(refuse_marked)
    queue_updates(
        app.store,
        app.codec,
        [
            {"type": "product", "id": "P1"},
            {"type": "product", "id": "BAD-3"},
            {"type": "product", "id": "P3"},
        ],
    )
    report = app.outbox().push_due()
    assert (report.sent, report.failed, report.calls) == (2, 1, 4)
    assert [(row.erp_id, row.status) for row in records(app.store)] == [
        ("P1", "sent"),
        ("BAD-3", "failed"),
        ("P3", "sent"),
    ]


def test_batches_follow_batch_size(simulator: Simulator, database_url: str) -> None:
    """Five products with batch_size 2: three calls of 2, 2 and 1 products."""
    app = App.open(settings_for(simulator, database_url, batch_size=2))
    try:
        queue_updates(app.store, app.codec, [{"type": "product", "id": f"P{n}"} for n in range(5)])
        assert app.outbox().push_due().calls == 3
    finally:
        app.close()
    sizes = [
        len(body.findall(".//c:product", NS))
        for body in update_bodies(simulator, "products_Update")
    ]
    assert sizes == [2, 2, 1]


def test_accepted_batch_is_recorded_when_centra_then_goes_down(
    simulator: Simulator, database_url: str
) -> None:
    """Products and customers due together go in two calls; Centra accepts the products and
    is down for the customers. The push stops; the products are recorded as sent, with their
    id mappings, and the customer waits."""
    calls = iter([None])

    def down_after_the_first_call(request: Request) -> Reply | None:
        if not request.operation.endswith("_Update"):
            return None
        return next(calls, Reply(503, b"down", "text/plain"))

    simulator.faults.append(down_after_the_first_call)
    app = App.open(settings_for(simulator, database_url, batch_size=10))
    try:
        queue_updates(
            app.store,
            app.codec,
            [
                {"type": "product", "id": "P0"},
                {"type": "product", "id": "P1"},
                {"type": "customer", "id": "C0", "firstname": "Bo"},
            ],
        )
        report = app.outbox().push_due()
        statuses = [(row.erp_id, row.status) for row in records(app.store)]
        with app.store.transaction() as session:
            mapped = idmap_repo.all_links(session, "product")
    finally:
        app.close()
    assert (report.calls, report.sent, report.stopped) == (2, 2, "Centra unreachable")
    assert statuses == [("P0", "sent"), ("P1", "sent"), ("C0", "failed")]
    assert [(link.erp_id, link.centra_id) for link in mapped] == [("P0", "P0"), ("P1", "P1")]


def test_a_batch_is_recorded_sent_before_the_next_call(
    simulator: Simulator, database_url: str
) -> None:
    """Echo suppression needs to know what was sent before Centra's echo can come back: when
    the next call goes out, the batch before it is already recorded as sent."""
    app = App.open(settings_for(simulator, database_url, batch_size=1))
    seen: list[list[str]] = []

    def look(request: Request) -> Reply | None:
        if request.operation == "products_Update":
            seen.append([row.status for row in records(app.store)])
        return None

    simulator.faults.append(look)
    try:
        queue_updates(app.store, app.codec, [{"type": "product", "id": f"P{n}"} for n in range(3)])
        assert app.outbox().push_due().sent == 3
    finally:
        app.close()
    assert seen == [
        ["queued", "queued", "queued"],
        ["sent", "queued", "queued"],
        ["sent", "sent", "queued"],
    ]


def test_shutdown_stops_between_batches(simulator: Simulator, database_url: str) -> None:
    """A shutdown asked for during a call lets that batch finish and be recorded; the batches
    read with it are not sent and stay queued."""
    stop = threading.Event()

    def shutdown_during_the_call(request: Request) -> Reply | None:
        if request.operation == "products_Update":
            stop.set()
        return None

    simulator.faults.append(shutdown_during_the_call)
    app = App.open(settings_for(simulator, database_url, batch_size=2))
    try:
        queue_updates(app.store, app.codec, [{"type": "product", "id": f"P{n}"} for n in range(6)])
        report = app.outbox().push_due(stop)
        statuses = [row.status for row in records(app.store)]
    finally:
        app.close()
    assert (report.calls, report.sent, report.stopped) == (1, 2, "shutdown requested")
    assert statuses == ["sent", "sent", "queued", "queued", "queued", "queued"]


def test_shutdown_stops_a_batch_sent_record_by_record(app: App, simulator: Simulator) -> None:
    """A refused batch goes out one record per call; a shutdown asked for meanwhile stops it
    after the call in flight, and the records not sent stay queued."""
    stop = threading.Event()
    answers = iter([Reply(200, result_reply(CENTRA_NS, False, ["one is bad"]))])

    def refuse_then_shut_down(request: Request) -> Reply | None:
        if request.operation != "products_Update":
            return None
        refusal = next(answers, None)
        if refusal is None:
            stop.set()
        return refusal

    simulator.faults.append(refuse_then_shut_down)
    queue_updates(app.store, app.codec, [{"type": "product", "id": f"P{n}"} for n in range(3)])
    report = app.outbox().push_due(stop)
    assert (report.calls, report.sent, report.stopped) == (2, 1, "shutdown requested")
    assert [row.status for row in records(app.store)] == ["sent", "queued", "queued"]


def test_unreachable_centra_backs_off_and_never_kills_records(
    app: App, simulator: Simulator
) -> None:
    """HTTP 503 for hours: the records wait, backing off, and use up none of their attempts."""
    simulator.faults.append(lambda request: Reply(503, b"down", "text/plain"))
    queue_updates(app.store, app.codec, [{"type": "customer", "id": "C5", "firstname": "Bo"}])
    clock = Clock()
    report = outbox_for(app, clock).push_due()
    assert report.stopped == "Centra unreachable" and report.failed == 1
    (row,) = records(app.store)
    assert row.status == "failed" and "unreachable" in (row.last_error or "")
    for _ in range(10):
        clock.advance(3600)
        outbox_for(app, clock).push_due()
    (row,) = records(app.store)
    assert (row.status, row.attempts) == ("failed", 0)
    simulator.faults.clear()
    clock.advance(3600)
    outbox_for(app, clock).push_due()
    assert records(app.store)[0].status == "sent"
    assert simulator.customers["C5"]["firstname"] == "Bo"


def test_updates_of_one_object_keep_their_order(app: App, simulator: Simulator) -> None:
    """A failed stock update holds back the newer one for the same product until it is sent."""
    simulator.faults.append(refuse_marked)
    queue_updates(
        app.store,
        app.codec,
        [
            {"type": "product", "id": "P9", "comment": "BAD"},
            {"type": "product", "id": "P9", "comment": "newer"},
            {"type": "product", "id": "P10", "comment": "other"},
        ],
    )
    clock = Clock()
    outbox_for(app, clock).push_due()
    assert [row.status for row in records(app.store)] == ["failed", "queued", "sent"]
    simulator.faults.clear()
    clock.advance(3600)
    outbox_for(app, clock).push_due()
    assert [row.status for row in records(app.store)] == ["sent", "sent", "sent"]
    assert simulator.products["P9"]["comment"] == "newer"


def test_unmapped_id_that_is_another_objects_centra_id_is_refused(
    app: App, simulator: Simulator
) -> None:
    """Sending ERP id 4711 as-is would overwrite ERP customer C1001's Centra object: dead."""
    with app.store.transaction() as session:
        set_mapping(session, Link("customer", "C1001", "4711", "manual"), datetime.now(UTC))
    queue_updates(app.store, app.codec, [{"type": "customer", "id": "4711", "firstname": "Eve"}])
    report = app.outbox().push_due()
    assert (report.dead, report.calls) == (1, 0)
    (row,) = records(app.store)
    assert row.status == "dead" and "belongs to ERP id C1001" in (row.last_error or "")
    assert simulator.customers == {}


def test_python_api_checks_everything_first(app: App) -> None:
    """queue_updates refuses a batch with one bad record, naming it, and queues nothing."""
    with pytest.raises(InputError) as refused:
        queue_updates(
            app.store,
            app.codec,
            [
                {"type": "customer", "id": "C1", "firstname": "Ada"},
                {"type": "customer", "id": "C2", "nickname": "Al"},
            ],
            source="nightly",
        )
    assert str(refused.value) == (
        "nightly:2: nickname: unknown field (Customer has no element 'nickname'; valid: "
        "address1, address2, city, country, email, firstname, id, lastname, state, status, "
        "store, telephone, type, zipcode)"
    )
    assert records(app.store) == []


def test_status_shows_failed_records_with_centras_messages(app: App, simulator: Simulator) -> None:
    """status --json carries outbox.by_status and each failed record's messages."""
    from bridge.cli.events import render
    from bridge.inbox import status

    simulator.faults.append(refuse_marked)
    queue_updates(app.store, app.codec, [{"type": "product", "id": "BAD-4"}], source="stock-feed")
    app.outbox().push_due()
    with app.store.transaction() as session:
        data = status.report(session)
    assert data["outbox"]["by_status"] == {"failed": 1}
    (troubled,) = data["outbox"]["troubled"]
    assert troubled["errors"] == [REFUSAL] and troubled["source"] == "stock-feed:1"
    assert REFUSAL in render(data)
    json.dumps(data)


def test_centra_going_down_while_a_batch_is_split_stops_the_push(
    app: App, simulator: Simulator
) -> None:
    """The batch is refused, then Centra answers 503: one record counts the failure, the
    others are not sent and keep waiting, unharmed."""
    answers = iter([Reply(200, result_reply(CENTRA_NS, False, ["one is bad"]))])

    def refuse_then_fall_over(request: Request) -> Reply | None:
        return next(answers, Reply(503, b"down", "text/plain"))

    simulator.faults.append(refuse_then_fall_over)
    queue_updates(app.store, app.codec, [{"type": "product", "id": f"P{n}"} for n in range(3)])
    report = app.outbox().push_due()
    assert (report.calls, report.failed, report.stopped) == (2, 1, "Centra unreachable")
    assert [row.status for row in records(app.store)] == ["failed", "queued", "queued"]


def test_retry_never_sends_older_data_over_newer(app: App, simulator: Simulator) -> None:
    """A dead update is not retried once a newer one for the same object went out."""
    simulator.faults.append(refuse_marked)
    queue_updates(app.store, app.codec, [{"type": "product", "id": "P9", "comment": "BAD"}])
    clock = Clock()
    for _ in range(10):
        outbox_for(app, clock).push_due()
        clock.advance(7200)
    assert records(app.store)[0].status == "dead"
    simulator.faults.clear()
    queue_updates(app.store, app.codec, [{"type": "product", "id": "P9", "comment": "newer"}])
    outbox_for(app, clock).push_due()
    with app.store.transaction() as session:
        assert requeue(session, ("failed", "dead"), clock()) == 0
    outbox_for(app, clock).push_due()
    assert simulator.products["P9"]["comment"] == "newer"

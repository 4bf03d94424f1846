"""Centra → ERP: sinks behind the handlers, echo suppression, customer ids into the id map."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from bridge.app import App
from bridge.config import (
    CentraSettings,
    DatabaseSettings,
    HandlerSettings,
    OutboxSettings,
    Secret,
    Settings,
    SinkSettings,
)
from bridge.handlers.base import EventRecord
from bridge.outbox.queue import queue_updates
from bridge.simulator import EVENT_DATE_FORMATS, MERCHANT_TIMEZONE, Simulator
from bridge.store.models import IdMapping, OutboxRecord, StoredEvent

PASSWORD = "pw-sinks-7a2b"
DELIVERED: list[str] = []
CUSTOMER = {"id": "4711", "firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}


def record_delivery(event: EventRecord) -> None:
    """A site's own sink: here it only notes the event id."""
    DELIVERED.append(event.event_id)


def refuse_delivery(event: EventRecord) -> None:
    raise ConnectionError("ERP import share is offline")


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=9) as running:
        yield running


def open_app(
    simulator: Simulator,
    database_url: str,
    sinks: dict[str, SinkSettings],
    *,
    timezone: str = "UTC",
    **handlers: Any,
) -> App:
    return App.open(
        Settings(
            centra=CentraSettings(
                endpoint=simulator.url,
                username="erp",
                password=Secret(PASSWORD),
                timeout_s=10,
                max_attempts=1,
                timezone=timezone,
            ),
            database=DatabaseSettings(url=database_url),
            handlers=HandlerSettings(**handlers),
            outbox=OutboxSettings(),
            sinks=sinks,
        )
    )


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "erp-import"
    folder.mkdir()
    return folder


def drain(app: App) -> None:
    app.inbox().drain()


def statuses(app: App) -> dict[str, str]:
    with app.store.transaction() as session:
        return dict(session.execute(select(StoredEvent.event_id, StoredEvent.status)).all())


def test_directory_sink_writes_one_json_file_per_event(
    simulator: Simulator, database_url: str, drop: Path
) -> None:
    """Each order lands as type_object_event.json, complete, with no temporary file left."""
    first = simulator.add_event("order", {"id": "30", "ordernumber": "30", "status": "pending"})
    second = simulator.add_event("order", {"id": "30", "ordernumber": "30", "status": "shipped"})
    app = open_app(simulator, database_url, {"order": SinkSettings("directory", path=drop)})
    try:
        drain(app)
    finally:
        app.close()
    assert sorted(p.name for p in drop.iterdir()) == [
        f"order_30_{first}.json",
        f"order_30_{second}.json",
    ]
    document = json.loads((drop / f"order_30_{second}.json").read_text())
    assert document["payload"]["status"] == "shipped"
    assert (document["type"], document["object_id"], document["event_id"]) == (
        "order",
        "30",
        second,
    )


@pytest.mark.parametrize("event_dates", EVENT_DATE_FORMATS)
def test_sinks_get_the_event_date_with_its_offset(
    database_url: str, drop: Path, event_dates: str
) -> None:
    """Sent plainly in the merchant's time (captures) or with an offset (reference), the
    event's date reaches the ERP as ISO 8601 with its offset; the text as sent is kept."""
    with Simulator(username="erp", password=PASSWORD, event_dates=event_dates) as simulator:
        event_id = simulator.add_event("order", {"id": "31", "ordernumber": "31"})
        app = open_app(
            simulator,
            database_url,
            {"order": SinkSettings("directory", path=drop)},
            timezone=MERCHANT_TIMEZONE,
        )
        try:
            drain(app)
        finally:
            app.close()
    document = json.loads((drop / f"order_31_{event_id}.json").read_text())
    sent = document["date_as_sent"]
    assert ("T" in sent) == (event_dates == "iso")
    when = datetime.fromisoformat(document["date"])
    assert when.utcoffset() == timedelta(hours=1)
    assert when == datetime.fromisoformat(sent).replace(tzinfo=when.tzinfo)


def test_directory_sink_can_write_centras_xml(
    simulator: Simulator, database_url: str, drop: Path
) -> None:
    """format = "xml" writes the <event> exactly as stored from Centra's answer."""
    event_id = simulator.add_event("customer", CUSTOMER)
    sink = SinkSettings("directory", path=drop, format="xml")
    app = open_app(simulator, database_url, {"customer": sink})
    try:
        drain(app)
        with app.store.transaction() as session:
            stored = session.scalars(select(StoredEvent.xml)).one()
    finally:
        app.close()
    assert (drop / f"customer_4711_{event_id}.xml").read_text() == stored
    assert "<ns1:firstname>Ada</ns1:firstname>" in stored


def test_database_sink_fills_a_staging_table_in_another_database(
    simulator: Simulator, database_url: str, tmp_path: Path
) -> None:
    """A second SQLite file gets the table, one row per event; a replay adds no row."""
    erp_url = f"sqlite:///{tmp_path / 'erp.db'}"
    event_id = simulator.add_event("customer", CUSTOMER)
    app = open_app(
        simulator,
        database_url,
        {"customer": SinkSettings("database", url=erp_url, table="web_customers")},
    )
    try:
        drain(app)
        with app.store.transaction() as session:
            seq = session.scalars(select(StoredEvent.seq)).one()
        app.dispatcher.run([seq], replay=True)
    finally:
        app.close()
    erp = create_engine(erp_url)
    with erp.connect() as connection:
        rows = connection.execute(
            text("SELECT event_id, object_id, payload_json, picked_up_at FROM web_customers")
        ).all()
    erp.dispose()
    assert len(rows) == 1
    assert (rows[0].event_id, rows[0].object_id, rows[0].picked_up_at) == (event_id, "4711", None)
    assert json.loads(rows[0].payload_json)["email"] == "ada@example.com"


def test_python_sink_is_called_with_the_event(simulator: Simulator, database_url: str) -> None:
    """A dotted path receives every handled event of its type; other types are not its concern."""
    DELIVERED.clear()
    order = simulator.add_event("order", {"id": "31", "status": "pending"})
    simulator.add_event("warehouse", {"id": "MAIN", "description": "Main"})
    sink = SinkSettings("python", target=f"{__name__}:record_delivery")
    app = open_app(simulator, database_url, {"order": sink})
    try:
        drain(app)
    finally:
        app.close()
    assert [order] == DELIVERED


def test_failing_sink_fails_the_event_but_never_the_acknowledgement(
    simulator: Simulator, database_url: str
) -> None:
    """The sink raises: the event is acknowledged anyway, retried, and dead after max_attempts."""
    event_id = simulator.add_event("order", {"id": "32", "status": "pending"})
    sink = SinkSettings("python", target=f"{__name__}:refuse_delivery")
    app = open_app(simulator, database_url, {"order": sink}, max_attempts=1)
    try:
        drain(app)
        status = statuses(app)[event_id]
        with app.store.transaction() as session:
            error = session.scalars(select(StoredEvent.last_error)).one()
    finally:
        app.close()
    assert simulator.queue() == []
    assert status == "dead"
    assert "ERP import share is offline" in (error or "")


def test_missing_sink_directory_is_a_failure_not_a_new_folder(
    simulator: Simulator, database_url: str, tmp_path: Path
) -> None:
    """An unmounted share is not recreated locally: the event fails and is retried."""
    event_id = simulator.add_event("order", {"id": "33"})
    app = open_app(
        simulator, database_url, {"order": SinkSettings("directory", path=tmp_path / "gone")}
    )
    try:
        drain(app)
        assert statuses(app)[event_id] == "failed"
    finally:
        app.close()
    assert not (tmp_path / "gone").exists()


def test_echo_of_a_push_is_stored_acknowledged_and_not_delivered(
    simulator: Simulator, database_url: str, drop: Path
) -> None:
    """Given a delivered customer, an ERP push of one field, then Centra's echo and a real change:
    only the real change reaches the ERP."""
    first = simulator.add_event("customer", CUSTOMER)
    app = open_app(simulator, database_url, {"customer": SinkSettings("directory", path=drop)})
    try:
        drain(app)
        # The ERP links its customer to the webshop one and changes the first name.
        with app.store.transaction() as session:
            row = session.scalars(select(IdMapping)).one()
            row.erp_id = "C1001"
        queue_updates(
            app.store, app.codec, [{"type": "customer", "id": "C1001", "firstname": "Augusta"}]
        )
        assert app.outbox().push_due().sent == 1
        echo = simulator.add_event("customer", {**CUSTOMER, "firstname": "Augusta"})
        drain(app)
        change = simulator.add_event(
            "customer", {**CUSTOMER, "firstname": "Augusta", "email": "augusta@example.com"}
        )
        drain(app)
        with app.store.transaction() as session:
            pushed = session.scalars(select(OutboxRecord)).one()
        seen = statuses(app)
    finally:
        app.close()
    assert sorted(p.name for p in drop.iterdir()) == sorted(
        [f"customer_4711_{first}.json", f"customer_4711_{change}.json"]
    )
    assert seen[echo] == "handled" and echo not in simulator.queue()
    assert pushed.echo_event_id == echo


def test_customer_events_register_centra_ids(simulator: Simulator, database_url: str) -> None:
    """A webshop customer's Centra id waits in the id map; ids set links the ERP id to it."""
    from bridge.outbox import idmap as ids

    simulator.add_event("customer", CUSTOMER)
    app = open_app(simulator, database_url, {})
    try:
        drain(app)
        before = ids.listing(app.store)
        change = ids.set_link(app.store, "customer", "C1001", "4711")
        after = ids.listing(app.store)
    finally:
        app.close()
    assert [(link.erp_id, link.centra_id, link.origin) for link in before] == [
        (None, "4711", "centra")
    ]
    assert change == "link"
    assert [(link.erp_id, link.centra_id, link.origin) for link in after] == [
        ("C1001", "4711", "manual")
    ]

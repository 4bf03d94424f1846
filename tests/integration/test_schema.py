"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import importlib.util
import json
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from bridge_process import bridge_command, child_env, write_config
from event_xml import main_codec, make_event
from sqlalchemy import func, select, text

from bridge.centra.port import EventPage
from bridge.centra.soap import CentraClient
from bridge.config import CentraSettings, Secret
from bridge.simulator import Simulator
from bridge.store import Store, schema
from bridge.store import events as repo
from bridge.store.models import Base, IdMapping, StoredEvent

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_migrations_match_models(database_url: str) -> None:
    """After upgrading, autogenerate finds nothing left to migrate (no forgotten migration)."""
    store = Store.open(database_url)
    try:
        with store.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert schema.current_revision(store.engine) == schema.head_revision()
        assert schema.upgrade(store.engine) == (schema.head_revision(), schema.head_revision())
    finally:
        store.close()


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    """The database holds customers' addresses: only its owner may read it."""
    path = tmp_path / "state" / "bridge.db"
    path.parent.mkdir()
    Store.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reading_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    """While a handler's transaction holds SQLite's write lock, status can still read."""
    store = Store.open(f"sqlite:///{tmp_path / 'bridge.db'}")
    try:
        with store.transaction() as writer:
            writer.add(
                IdMapping(
                    entity_type="customer",
                    erp_id="C1",
                    centra_id="1",
                    origin="erp",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            writer.flush()
            with store.reading() as reader:
                assert reader.scalar(select(func.count()).select_from(IdMapping)) == 0
        with store.reading() as reader:
            assert reader.scalar(select(func.count()).select_from(IdMapping)) == 1
    finally:
        store.close()


def test_downgrade_rebuilds_payloads_from_the_xml(database_url: str) -> None:
    """Going back to the version that kept a JSON payload per event loses no event's payload,
    and coming forward again keeps every event."""
    store = Store.open(database_url)
    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    try:
        customer = make_event("1", "customer", {"id": "77", "email": "ada@example.com"})
        with store.transaction() as session:
            repo.store_page(
                session, EventPage(events=[customer], raw=b"<page/>"), "events_Get", NOW
            )
        with store.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
            connection.commit()
            payloads = connection.execute(text("SELECT event_id, payload FROM events")).all()
        assert [
            (event_id, json.loads(payload) if isinstance(payload, str) else payload)
            for event_id, payload in payloads
        ] == [("1", {"id": "77", "email": "ada@example.com"})]
        schema.upgrade(store.engine)
        with store.reading() as session:
            assert session.scalars(select(StoredEvent.event_id)).all() == ["1"]
    finally:
        store.close()


def test_the_downgrade_reads_payloads_with_its_own_frozen_rules() -> None:
    """0004's downgrade reads every kind of event the simulator sends, and the captured
    orders and customer, exactly as the bridge's own reader does today, without importing it."""
    migration = _load_migration("0004_payload_read_from_xml.py")
    codec = main_codec()
    with Simulator(seed=3) as simulator:
        simulator.add_generated(800)
        client = CentraClient(
            CentraSettings(
                endpoint=simulator.url,
                username=simulator.username,
                password=Secret(simulator.password),
            )
        )
        events = []
        with client:
            while page := client.get_events().events:
                events += page
                client.acknowledge([event.event_id for event in page])
    assert {event.type for event in events} >= {"order", "customer", "account"}
    events.append(
        make_event(
            "p1",
            "product",
            {
                "id": "P1",
                "name": "Parka",
                "variations": [
                    {"id": "V1", "sizes": [{"id": "S1", "warehouseitems": [{"qty": "3"}]}]},
                    {"id": "V2", "sizes": []},
                ],
                "markets": [{"id": "1"}],
            },
        )
    )
    chain = {"id": "S4"}
    for rep in ("S3", "S2"):
        chain = {"id": rep, "mastersalesrep": [chain]}
    events.append(make_event("s1", "salesrep", {"id": "S1", "mastersalesrep": [chain]}))
    for event in events:
        assert migration._payload(event.xml) == codec.decode(event.xml), event.event_id


def _load_migration(name: str) -> Any:
    path = schema.MIGRATIONS / "versions" / name
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_commands_starting_together_on_an_empty_database_all_start(
    database_url: str, tmp_path: Path
) -> None:
    """Six commands started at once on an empty database: the migrations take turns (on
    PostgreSQL under an advisory lock), every command succeeds, the schema is at head."""
    config = write_config(tmp_path, "http://127.0.0.1:9/x", "pw-schema-3b7e")
    config.write_text(config.read_text().replace("sqlite:///bridge.db", database_url))
    commands = [
        subprocess.Popen(
            bridge_command("--config", str(config), "db", "upgrade"),
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [command.communicate(timeout=60) for command in commands]
    assert [command.returncode for command in commands] == [0] * 6, results
    store = Store.open(database_url, migrate=False)
    try:
        assert schema.current_revision(store.engine) == schema.head_revision()
    finally:
        store.close()


def test_events_from_before_0006_read_as_neither_echo_nor_touched_by_hand(
    database_url: str,
) -> None:
    """An event kept through the downgrade to 0005 and back comes up as no echo, delivered
    nowhere known, with no note: what the lookups show for events older than the columns."""
    store = Store.open(database_url)
    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    try:
        order = make_event("1", "order", {"id": "1003"})
        with store.transaction() as session:
            repo.store_page(session, EventPage(events=[order], raw=b"<page/>"), "events_Get", NOW)
            repo.mark_delivered(session, 1, "file /srv/erp/order_1003_1.json")
        with store.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            connection.commit()
        schema.upgrade(store.engine)
        with store.reading() as session:
            row = session.execute(
                select(
                    StoredEvent.event_id,
                    StoredEvent.echo,
                    StoredEvent.delivered_to,
                    StoredEvent.note,
                )
            ).one()
        assert tuple(row) == ("1", False, None, None)
    finally:
        store.close()

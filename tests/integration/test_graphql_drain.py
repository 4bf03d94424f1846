"""drain-events over Centra's GraphQL Integration API: the GraphQL double over real HTTP, the
real client, a real database; and the same ERP-facing copies as a SOAP run."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from bridge_process import run_bridge
from sqlalchemy import create_engine, select

from bridge.app import App
from bridge.centra.errors import CentraAuthError, CentraFault
from bridge.config import (
    GRAPHQL,
    CentraSettings,
    ConfigError,
    DatabaseSettings,
    Secret,
    Settings,
    SinkSettings,
)
from bridge.errors import ExitCode
from bridge.simulator import Simulator
from bridge.simulator.data import Generator
from bridge.simulator.graphql import RETRY_AFTER_FORMS, GraphqlSimulator
from bridge.store.models import Customer, Order, OrderLine, OrderShipment, StoredEvent

TOKEN = "gql-token-7c1d-very-secret"
PASSWORD = "pw-4f9a-very-secret"
#: Every kind the generator emits that no built-in handler takes, by Centra's GraphQL name.
LISTEN = (
    "Account",
    "Invoice",
    "Market",
    "Pricelist",
    "ProductSize",
    "SalesRepresentative",
    "Warehouse",
)


def graphql_settings(sim: GraphqlSimulator, database_url: str, **centra: Any) -> Settings:
    options: dict[str, Any] = {"max_attempts": 3, "retry_base_s": 0.01, "retry_max_s": 0.05}
    return Settings(
        centra=CentraSettings(
            endpoint=sim.url,
            username="",
            password=Secret(""),
            flavor=GRAPHQL,
            token=Secret(TOKEN),
            listen=LISTEN,
            timeout_s=10,
            **(options | centra),
        ),
        database=DatabaseSettings(url=database_url),
    )


def test_drain_stores_every_event_once_and_confirms_all(database_url: str) -> None:
    with GraphqlSimulator(token=TOKEN, seed=3) as sim:
        queued = sim.add_generated(250)
        with App.open(graphql_settings(sim, database_url)) as app:
            report = app.inbox().drain()
            again = app.inbox().drain()
            with app.store.reading() as session:
                rows = session.execute(
                    select(StoredEvent.transport, StoredEvent.event_id, StoredEvent.type)
                ).all()
                unacknowledged = session.scalars(
                    select(StoredEvent.event_id).where(StoredEvent.acknowledged_at.is_(None))
                ).all()
        assert sim.queue() == [], "every event confirmed, ignored kinds too"
        assert sorted(sim.confirmed) == queued
        assert {"Order", "Customer", *LISTEN} <= set(sim.listeners)
    assert sorted(int(row.event_id) for row in rows) == queued, "each stored once"
    assert {row.transport for row in rows} == {"graphql"}
    assert {"order", "customer", "invoice", "warehouse"} <= {row.type for row in rows}
    assert unacknowledged == []
    assert report.new == 250
    assert report.outcomes["failed"] == report.outcomes["dead"] == 0
    assert report.outcomes["ignored"] > 0
    assert again.fetched == 0


def _copies(database_url: str) -> dict[str, Any]:
    """The ERP-facing tables, without what only says when or from which event they came."""
    engine = create_engine(database_url)
    skip = {"data", "event_seq", "updated_at"}
    found: dict[str, Any] = {}
    with engine.connect() as connection:
        for model in (Order, OrderLine, OrderShipment, Customer):
            table = model.__table__
            # A line's or shipment's own row number only says in which order it was written.
            surrogate = {"id"} if model in (OrderLine, OrderShipment) else set()
            columns = [c for c in table.columns if c.name not in skip | surrogate]
            rows = connection.execute(select(*columns)).mappings().all()
            found[table.name] = sorted((dict(row) for row in rows), key=repr)
    engine.dispose()
    return found


def test_erp_facing_copies_equal_those_of_a_soap_run(tmp_path: Path) -> None:
    """The same seeded stream over each transport leaves the same orders, lines, shipments
    and customers; a deleted customer is deleted in both (over GraphQL its last fields are
    never seen: the object is looked up when the page is fetched, after the delete)."""
    soap_db, graphql_db = tmp_path / "soap.db", tmp_path / "graphql.db"
    with Simulator(username="erp", password=PASSWORD, seed=3) as soap:
        soap.add_generated(400)
        settings = Settings(
            centra=CentraSettings(
                endpoint=soap.url, username="erp", password=Secret(PASSWORD), timeout_s=10
            ),
            database=DatabaseSettings(url=f"sqlite:///{soap_db}"),
        )
        with App.open(settings) as app:
            app.inbox().drain()
    with GraphqlSimulator(token=TOKEN, seed=3) as sim:
        sim.add_generated(400)
        with App.open(graphql_settings(sim, f"sqlite:///{graphql_db}")) as app:
            app.inbox().drain()
    over_soap, over_graphql = _copies(f"sqlite:///{soap_db}"), _copies(f"sqlite:///{graphql_db}")
    assert over_soap["orders"] and over_soap["order_lines"] and over_soap["order_shipments"]
    for table in ("orders", "order_lines", "order_shipments"):
        assert over_graphql[table] == over_soap[table], table
    live = [c for c in over_soap["customers"] if not c["deleted"]]
    assert [c for c in over_graphql["customers"] if not c["deleted"]] == live
    deleted = {c["customer_id"] for c in over_soap["customers"] if c["deleted"]}
    assert deleted
    assert {c["customer_id"] for c in over_graphql["customers"] if c["deleted"]} == deleted


@pytest.mark.parametrize("form", RETRY_AFTER_FORMS)
def test_429_is_waited_out_never_retried_sooner(form: str, tmp_path: Path) -> None:
    with GraphqlSimulator(token=TOKEN, seed=4) as sim:
        sim.add_generated(30)
        sim.throttle(2, 1.0, form)
        settings = graphql_settings(
            sim, f"sqlite:///{tmp_path / 'b.db'}", max_attempts=5, retry_max_s=5
        )
        with App.open(settings) as app:
            report = app.inbox().drain()
        calls, resume_at = sim.calls, sim.resume_at
    assert report.fetched == 30 and sim.queue() == []
    throttled = [call for call in calls if call.status == 429]
    assert len(throttled) == 2
    for call, resume in zip(throttled, resume_at, strict=True):
        sooner = [c for c in calls if call.at < c.at < resume]
        assert sooner == [], f"a request came before Retry-After ({form})"


def test_errors_on_http_200_are_a_fault(tmp_path: Path) -> None:
    with GraphqlSimulator(token=TOKEN) as sim:
        sim.add_generated(5)
        sim.fail(1)
        with (
            App.open(graphql_settings(sim, f"sqlite:///{tmp_path / 'b.db'}")) as app,
            pytest.raises(CentraFault, match="Internal server error"),
        ):
            app.inbox().drain()
        assert len(sim.queue()) == 5


@pytest.mark.parametrize("expired", [True, False])
def test_a_refused_or_expired_token_stops_with_exit_3(expired: bool, tmp_path: Path) -> None:
    with GraphqlSimulator(token=TOKEN if expired else "another-token") as sim:
        sim.add_generated(5)
        sim.expire_token(expired)
        with (
            App.open(graphql_settings(sim, f"sqlite:///{tmp_path / 'b.db'}")) as app,
            pytest.raises(CentraAuthError) as caught,
        ):
            app.inbox().drain()
    assert caught.value.exit_code == ExitCode.AUTH
    assert TOKEN not in str(caught.value)


def test_drain_events_command_on_graphql_and_push_refused(tmp_path: Path) -> None:
    """As a user runs it: the token from the environment, never in the output."""
    with GraphqlSimulator(token=TOKEN, seed=5) as sim:
        sim.add_generated(40)
        config = tmp_path / "bridge.toml"
        config.write_text(
            f'[centra]\nflavor = "graphql"\nendpoint = "{sim.url}"\n'
            f"listen = {list(LISTEN)!r}\ntimeout = 5\nretry_base = 0.01\nretry_max = 0.05\n"
            '[database]\nurl = "sqlite:///bridge.db"\n'.replace("'", '"'),
            encoding="utf-8",
        )
        env = {"CENTRA_BRIDGE_TOKEN": TOKEN}
        drained = run_bridge("--config", str(config), "drain-events", env=env)
        assert drained.returncode == 0, drained.stderr[-2000:]
        assert sim.queue() == []
        updates = tmp_path / "updates.jsonl"
        updates.write_text('{"type": "customer", "id": "C1", "firstname": "Ada"}\n')
        pushed = run_bridge("--config", str(config), "push", str(updates), env=env)
    assert pushed.returncode == ConfigError.exit_code
    assert "[centra] flavor" in pushed.stderr and "Traceback" not in pushed.stderr
    assert TOKEN not in drained.stderr + drained.stdout + pushed.stderr


def test_events_for_one_object_in_one_page_are_handled_once(
    tmp_path: Path, database_url: str
) -> None:
    """Three events for order 1001 in one page carry the order as it is when the page is
    fetched: the last is handled (one file for the ERP), the two before it are superseded.
    The same order in a later page is handled again: that page may carry a newer state."""
    orders = [e for e in Generator(3).generate(40) if e.type == "order"]
    order, other = orders[0], next(e for e in orders if e.entry != orders[0].entry)
    outbox = tmp_path / "erp"
    outbox.mkdir()
    sinks = {"order": SinkSettings(kind="directory", path=outbox)}
    with GraphqlSimulator(token=TOKEN) as sim:
        first = [sim.add_event("order", order.payload, entry=order.entry) for _ in range(3)]
        alone = sim.add_event("order", other.payload, entry=other.entry)
        settings = dataclasses.replace(graphql_settings(sim, database_url), sinks=sinks)
        with App.open(settings) as app:
            report = app.inbox().drain()
            later = sim.add_event("order", order.payload | {"status": "shipped"}, entry=order.entry)
            again = app.inbox().drain()
            with app.store.reading() as session:
                rows = session.execute(select(StoredEvent.event_id, StoredEvent.status))
                status = {row.event_id: row.status for row in rows}
        assert sim.queue() == [], "superseded events are confirmed too"
    assert [status[str(i)] for i in first] == ["superseded", "superseded", "handled"]
    assert status[str(alone)] == status[str(later)] == "handled"
    assert report.outcomes["superseded"] == 2 and report.outcomes["handled"] == 2
    assert again.outcomes["handled"] == 1 and again.outcomes["superseded"] == 0
    delivered = sorted(path.name for path in outbox.iterdir())
    assert len(delivered) == 3, delivered


def test_soap_events_for_one_object_in_one_page_are_each_handled(database_url: str) -> None:
    """Over SOAP each event carries the object as it was when it was raised: all are handled."""
    orders = [e for e in Generator(3).generate(40) if e.type == "order"]
    with Simulator(username="erp", password=PASSWORD) as soap:
        for status in ("pending", "confirmed", "shipped"):
            soap.add_event("order", orders[0].payload | {"status": status}, entry=orders[0].entry)
        settings = Settings(
            centra=CentraSettings(
                endpoint=soap.url, username="erp", password=Secret(PASSWORD), timeout_s=10
            ),
            database=DatabaseSettings(url=database_url),
        )
        with App.open(settings) as app:
            report = app.inbox().drain()
    assert report.outcomes["handled"] == 3 and report.outcomes["superseded"] == 0


def test_demo_on_graphql_drains_everything(tmp_path: Path) -> None:
    """README's first command, over GraphQL: every kind stored, confirmed, the queue empty."""
    result = run_bridge(
        "demo", "--flavor", "graphql", "--events", "150", "--database", str(tmp_path / "demo.db")
    )
    assert result.returncode == 0, result.stderr
    assert "drained: fetched=150 new=150 duplicates=0" in result.stdout
    assert "150 of 150 events stored, 0 unacknowledged, 0 left in the simulator's queue" in (
        result.stdout
    )

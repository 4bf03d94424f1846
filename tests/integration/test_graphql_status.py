"""What an operator sees of a GraphQL bridge: the event listeners Centra keeps and the days
the token has left (``status``, ``/metrics``), and one clear line with exit 3 once Centra
refuses the token. The GraphQL double over real HTTP, the real command line, a real store."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import prometheus_client
import pytest
from bridge_process import run_bridge
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import App
from bridge.config import load_settings
from bridge.daemon.health import Health
from bridge.daemon.jobs import Jobs
from bridge.daemon.metrics import Metrics
from bridge.errors import ExitCode
from bridge.simulator.graphql import INTEGRATION, GraphqlSimulator

TOKEN = "gql-token-51aa-very-secret"


def write_config(
    tmp_path: Path,
    url: str,
    database_url: str,
    token_expires: date,
    integration: str = INTEGRATION,
) -> Path:
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[centra]\nflavor = "graphql"\nendpoint = "{url}"\nlisten = ["Return"]\n'
        f'token_expires = {token_expires.isoformat()}\nintegration = "{integration}"\n'
        "timeout = 5\nretry_base = 0.01\nretry_max = 0.05\n"
        f'[database]\nurl = "{database_url}"\n',
        encoding="utf-8",
    )
    return config


def test_status_shows_the_listeners_and_the_days_the_token_has_left(
    tmp_path: Path, database_url: str
) -> None:
    expires = datetime.now(UTC).date() + timedelta(days=20)
    with GraphqlSimulator(token=TOKEN, seed=2) as sim:
        sim.add_generated(10)
        config = write_config(tmp_path, sim.url, database_url, expires)
        env = {"CENTRA_BRIDGE_TOKEN": TOKEN}
        drained = run_bridge("--config", str(config), "drain-events", env=env)
        assert drained.returncode == 0, drained.stderr[-2000:]
        listened = sim.listeners
    # status reads the store only: no token in its environment.
    status = run_bridge("--config", str(config), "status", "--json")
    text = run_bridge("--config", str(config), "status")
    assert status.returncode == text.returncode == 0, status.stderr[-2000:]
    centra = json.loads(status.stdout)["centra"]
    assert set(centra["listeners"]) == set(listened) >= {"Order", "Customer", "Return"}
    assert "DELETED" in centra["listeners"]["Order"], "Centra returns every change type"
    assert centra["token_expires"] == expires.isoformat()
    # 19 only if the date turned between writing the file and running status.
    assert centra["token_days_left"] in (19, 20)
    assert "event listeners    " in text.stdout and "Return" in text.stdout
    assert f"token expires      {expires.isoformat()} (in " in text.stdout


def test_metrics_show_the_listeners_and_the_days_the_token_has_left(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = date(2027, 1, 1)
    clock = datetime(2026, 12, 22, 12, 0, tzinfo=UTC)
    with GraphqlSimulator(token=TOKEN, seed=2) as sim:
        sim.add_generated(5)
        config = write_config(tmp_path, sim.url, database_url, expires)
        metrics = Metrics(clock=clock.timestamp)
        monkeypatch.setenv("CENTRA_BRIDGE_TOKEN", TOKEN)
        with App.open(load_settings(config)) as app:
            app.inbox().drain()
            Jobs(app, app.settings.schedule, threading.Event(), metrics, Health()).refresh()
    text = prometheus_client.generate_latest(metrics.registry).decode()
    got = {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert got[("centra_bridge_token_expires_in_days", ())] == 9.5
    listening = {labels[0] for name, labels in got if name == "centra_bridge_event_listeners"}
    assert listening >= {"Order", "Customer", "Return"}


def test_an_expired_token_stops_drain_events_with_exit_3_and_one_clear_line(
    tmp_path: Path,
) -> None:
    with GraphqlSimulator(token=TOKEN) as sim:
        sim.add_generated(3)
        sim.expire_token()
        config = write_config(tmp_path, sim.url, "sqlite:///bridge.db", date(2027, 1, 1))
        drained = run_bridge(
            "--config", str(config), "drain-events", env={"CENTRA_BRIDGE_TOKEN": TOKEN}
        )
        assert len(sim.queue()) == 3
    assert drained.returncode == ExitCode.AUTH
    errors = [line for line in drained.stderr.splitlines() if line.startswith("centra-bridge:")]
    assert len(errors) == 1, drained.stderr
    assert "token" in errors[0] and "expired" in errors[0]
    assert "Traceback" not in drained.stderr
    assert TOKEN not in drained.stderr + drained.stdout


def test_a_token_of_another_integration_is_refused_with_exit_3(tmp_path: Path) -> None:
    """The queue is the integration's: a token made for another one would take its events."""
    with GraphqlSimulator(token=TOKEN) as sim:
        sim.add_generated(3)
        config = write_config(
            tmp_path, sim.url, "sqlite:///bridge.db", date(2027, 1, 1), "erp-prod"
        )
        drained = run_bridge(
            "--config", str(config), "drain-events", env={"CENTRA_BRIDGE_TOKEN": TOKEN}
        )
        assert len(sim.queue()) == 3
        assert "events" not in {call.operation for call in sim.calls}
    assert drained.returncode == ExitCode.AUTH
    last = drained.stderr.strip().splitlines()[-1]
    assert f'belongs to integration "{INTEGRATION}", not "erp-prod"' in last

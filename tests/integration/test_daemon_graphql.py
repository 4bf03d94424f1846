"""``centra-bridge run`` over Centra's GraphQL events: a child process, real signals, the
GraphQL double over real HTTP, a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_harness import Daemon
from test_daemon import fetched, free_port, sample, scrape, stored

from bridge.errors import ExitCode
from bridge.simulator.data import Generator
from bridge.simulator.graphql import RETRY_AFTER_FORMS, GraphqlSimulator
from bridge.simulator.graphql_objects import graphql_type

TOKEN = "gql-daemon-8d2b-never-print-me"
SEED = 9


@pytest.fixture
def simulator() -> Iterator[GraphqlSimulator]:
    with GraphqlSimulator(token=TOKEN, seed=SEED) as running:
        yield running


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    """Polling every second; listening to every kind the seeded stream holds."""
    kinds = sorted({graphql_type(e.type) for e in Generator(SEED).generate(400)})
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[centra]\nflavor = "graphql"\nendpoint = "{url}"\ntoken = "{TOKEN}"\n'
        f"listen = {kinds!r}\ntoken_expires = {expires}\n".replace("'", '"')
        + "timeout = 30\nmax_attempts = 2\nretry_base = 0.05\nretry_max = 0.2\n"
        '[database]\nurl = "sqlite:///bridge.db"\n'
        f"[schedule]\npoll = 1\npoll_jitter = 0\nretry = 1\nauth_retry = 0.5\n{extra}",
        encoding="utf-8",
    )
    return path


def test_run_drains_confirms_and_stops_on_sigterm(
    tmp_path: Path, simulator: GraphqlSimulator
) -> None:
    """Events queued before and while it runs are stored and confirmed; SIGTERM exits 0."""
    first = simulator.add_generated(150)
    port = free_port()
    daemon = Daemon(write_config(tmp_path, simulator.url, f"[metrics]\nport = {port}\n"))
    try:
        assert simulator.wait_for(lambda: not simulator.queue(), timeout=30), daemon.output()
        later = simulator.add_generated(20)
        assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
        assert simulator.wait_for(lambda: fetched(scrape(port)) == 170), scrape(port)
        # The health job runs every few seconds: wait for it to have read the listeners.
        listening = "centra_bridge_event_listeners"
        assert simulator.wait_for(lambda: sample(scrape(port), listening, object_type="Order"))
        metrics = scrape(port)
    finally:
        code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    ids, unacknowledged = stored(tmp_path)
    assert {str(i) for i in first + later} == ids
    assert unacknowledged == 0
    assert sorted(simulator.confirmed) == first + later
    assert sample(metrics, "centra_bridge_polls_total", result="ok")
    assert sample(metrics, "centra_bridge_events", status="handled", type="order")
    days = sample(metrics, "centra_bridge_token_expires_in_days")
    assert days is not None and 28 < days <= 30
    calls = "centra_bridge_centra_call_duration_seconds_count"
    assert sample(metrics, calls, operation="setEventListeners") == 1, "once per connection"
    assert (sample(metrics, calls, operation="confirmEvents") or 0) >= 2
    assert "Traceback" not in daemon.output()
    assert TOKEN not in daemon.output()


@pytest.mark.parametrize("form", RETRY_AFTER_FORMS)
def test_run_waits_out_429_bursts_never_asking_sooner(
    form: str, tmp_path: Path, simulator: GraphqlSimulator
) -> None:
    """Bursts of 429 longer than the client's own retries: the poll backs off as long as
    Centra asked, and no request reaches Centra before the time a 429 named."""
    simulator.add_generated(60)
    simulator.throttle(4, 1.0, form)
    daemon = Daemon(write_config(tmp_path, simulator.url))
    try:
        assert simulator.wait_for(lambda: not simulator.queue(), timeout=30), daemon.output()
        daemon.wait_log(lambda line: "drain finished" in line and '"fetched": 60' in line)
        simulator.throttle(3, 1.0, form)
        later = simulator.add_generated(10)
        assert simulator.wait_for(lambda: not simulator.queue(), timeout=30), daemon.output()
    finally:
        code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    calls, resume_at = simulator.calls, simulator.resume_at
    throttled = [call for call in calls if call.status == 429]
    assert len(throttled) == 7
    for call, resume in zip(throttled, resume_at, strict=True):
        sooner = [c for c in calls if call.at < c.at < resume]
        assert sooner == [], f"a request came before Retry-After ({form})"
    assert set(later) <= set(simulator.confirmed)
    assert "poll failed: Centra unreachable" in daemon.output()

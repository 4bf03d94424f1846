"""Faults injected for real into the simulator: the drain survives them or stops cleanly.

Transient trouble (unreachable, timeouts, 5xx, 429, a connection cut mid-answer) is retried
and the queue still drains; trouble that needs a person (Faults, broken or hostile XML) is
refused at once, leaves nothing stored or acknowledged, and the next poll works.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_process import child_env, write_config
from sqlalchemy import func, select

from bridge.app import App
from bridge.centra.errors import CentraAuthError, CentraFault, CentraProtocolError
from bridge.config import CentraSettings, DatabaseSettings, Secret, Settings
from bridge.errors import ExitCode
from bridge.inbox.drain import QueueStalled
from bridge.simulator import Fault, FaultPlan, Simulator
from bridge.simulator.faults import HUGE_ANSWER_BYTES
from bridge.store.models import CentraResponse, StoredEvent

PASSWORD = "reliability-pw-31d7"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=11) as running:
        yield running


@pytest.fixture
def app(simulator: Simulator, tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        centra=CentraSettings(
            endpoint=simulator.url,
            username="erp",
            password=Secret(PASSWORD),
            timeout_s=0.5,
            max_attempts=4,
            retry_base_s=0.01,
            retry_max_s=0.05,
            max_response_bytes=2 * 1024 * 1024,
        ),
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'bridge.db'}"),
    )
    opened = App.open(settings)
    try:
        yield opened
    finally:
        opened.close()


def stored(app: App) -> int:
    with app.store.transaction() as session:
        return session.scalar(select(func.count()).select_from(StoredEvent)) or 0


def calls(simulator: Simulator) -> collections.Counter[str]:
    return collections.Counter(call.operation for call in simulator.calls)


@pytest.mark.parametrize(
    "kind", ["http-500", "http-502", "http-503", "http-429", "reset", "hang", "latency"]
)
def test_transient_faults_are_retried(simulator: Simulator, app: App, kind: str) -> None:
    """Two hits of a transient fault on events_Get cost retries, not events."""
    ids = simulator.add_generated(150)
    plan = simulator.inject(
        FaultPlan(
            [Fault(kind, ("events_Get",), times=2, delay_s=0.05 if kind == "latency" else None)]
        )
    )
    report = app.inbox().drain()
    assert plan.fired[kind] == 2
    assert simulator.queue() == []
    assert report.new == len(ids) == stored(app)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("soap-fault", CentraFault),
        ("bad-login", CentraAuthError),
        ("malformed", CentraProtocolError),
        ("truncated", CentraProtocolError),
        ("huge", CentraProtocolError),
        ("xxe", CentraProtocolError),
        ("billion-laughs", CentraProtocolError),
        ("external-dtd", CentraProtocolError),
    ],
)
def test_untrustworthy_answers_are_refused_then_polling_goes_on(
    simulator: Simulator, app: App, kind: str, error: type[Exception]
) -> None:
    """Not retried blindly, nothing stored or acknowledged; the next poll drains normally."""
    simulator.add_generated(30)
    simulator.inject(FaultPlan([Fault(kind, ("events_Get",), times=1)]))
    with pytest.raises(error) as caught:
        app.inbox().drain()
    assert calls(simulator)["events_Get"] == 1, "refused at once, not retried"
    assert "root:" not in str(caught.value), "no local file content in the error"
    assert stored(app) == 0
    assert len(simulator.queue()) == 30
    assert "events_Done" not in calls(simulator)

    report = app.inbox().drain()
    assert report.new == 30
    assert simulator.queue() == []
    with app.store.transaction() as session:
        bodies = b"".join(session.scalars(select(CentraResponse.body)))
    assert b"root:" not in bodies


def test_events_done_lost_after_centra_removed_the_events(simulator: Simulator, app: App) -> None:
    """Centra acted on events_Done but the answer was lost: retried, nothing doubled."""
    simulator.add_generated(120)
    plan = simulator.inject(FaultPlan([Fault("done-lost", times=1)]))
    report = app.inbox().drain()
    assert plan.fired["done-lost"] == 1
    assert simulator.queue() == []
    assert report.duplicates == 0
    assert stored(app) == 120
    with app.store.transaction() as session:
        unacknowledged = session.scalar(
            select(func.count()).where(StoredEvent.acknowledged_at.is_(None))
        )
    assert unacknowledged == 0


def test_events_done_that_removes_nothing_stops_the_drain(simulator: Simulator, app: App) -> None:
    """Centra says "done" but keeps serving the same page: the drain stops, it does not spin."""
    simulator.add_generated(150)
    simulator.inject(FaultPlan([Fault("done-ignored")]))
    with pytest.raises(QueueStalled, match="queue is not moving"):
        app.inbox().drain()
    assert calls(simulator)["events_Get"] == 2
    assert stored(app) == 100


#: Runs the bridge, then reports its own peak RSS (VmHWM: this process since exec, unlike
#: ru_maxrss, which also counts the forked copy of the test runner).
_PEAK_RSS_WRAPPER = (
    "import sys\n"
    "from bridge.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "print('peak_rss_kb', hwm, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def peak_rss_mb(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS_WRAPPER, *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, int(result.stderr.split("peak_rss_kb")[-1].split()[0]) / 1024


def test_huge_answer_keeps_memory_bounded(simulator: Simulator, tmp_path: Path) -> None:
    """A 64 MB answer is refused without being read: the bridge grows by far less than it."""
    simulator.add_generated(10)
    config = write_config(tmp_path, simulator.url, PASSWORD)
    peak_rss_mb("--config", str(config), "db", "upgrade")
    _, baseline_mb = peak_rss_mb("--config", str(config), "status")
    simulator.inject(FaultPlan([Fault("huge", ("events_Get",))]))
    result, peak_mb = peak_rss_mb("--config", str(config), "drain-events")
    assert result.returncode == ExitCode.CENTRA_ERROR, result.stderr
    assert "larger than max_response_bytes" in result.stderr
    answer_mb = HUGE_ANSWER_BYTES / 1024 / 1024
    assert peak_mb - baseline_mb < answer_mb / 4, f"{baseline_mb:.0f} MB -> {peak_mb:.0f} MB"
    assert len(simulator.queue()) == 10

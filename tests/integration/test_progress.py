"""Long work says how far it is; a poll's log lines share one id; idle is quiet, dead is loud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bridge_process
import pytest

from bridge.app import App
from bridge.config import CentraSettings, DatabaseSettings, Secret, Settings
from bridge.errors import ExitCode
from bridge.inbox.replay import replay
from bridge.simulator import Simulator
from bridge.store.events import ReplaySelection

PASSWORD = "pw-0c3d-progress-test"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=11) as running:
        yield running


class Recorder:
    """A Progress that keeps every report."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        self.calls.append((phase, done, total))

    def of(self, phase: str) -> list[tuple[int, int | None]]:
        return [(done, total) for p, done, total in self.calls if p == phase]


def settings_for(simulator: Simulator, database_url: str) -> Settings:
    return Settings(
        centra=CentraSettings(endpoint=simulator.url, username="erp", password=Secret(PASSWORD)),
        database=DatabaseSettings(url=database_url),
    )


def test_drain_and_replay_report_how_far_they_are(simulator: Simulator, database_url: str) -> None:
    """Fetching counts up page by page; handling and replaying count up to their total."""
    generating = Recorder()
    simulator.add_generated(250, generating)
    assert generating.of("generating events")[-1] == (250, 250)

    progress = Recorder()
    with App.open(settings_for(simulator, database_url)) as app:
        report = app.inbox().drain(progress=progress)
        fetched = progress.of("fetching events")
        assert [done for done, _ in fetched] == [100, 200, 250]
        handled = progress.of("handling events")
        assert handled[-1] == (report.new, report.new)
        assert [done for done, _ in handled] == sorted(done for done, _ in handled)

        again = Recorder()
        chosen = replay(app.store, app.dispatcher, ReplaySelection(types=["order"]), again)
        assert again.of("replaying events")[-1] == (len(chosen.chosen), len(chosen.chosen))


def json_logs(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_one_poll_id_per_drain_and_an_idle_poll_is_quiet(
    tmp_path: Path, simulator: Simulator
) -> None:
    """Every log line of one drain-events carries the same poll_id; an empty queue logs
    nothing at info."""
    simulator.add_generated(150)
    config = bridge_process.write_config(tmp_path, simulator.url, PASSWORD)
    drained = bridge_process.run_bridge(
        "--config", str(config), "--log-format", "json", "--log-level", "debug", "drain-events"
    )
    assert drained.returncode == ExitCode.OK, drained.stderr
    lines = [line for line in json_logs(drained.stderr) if line["logger"].startswith("bridge.")]
    assert any(line["message"] == "page stored and acknowledged" for line in lines)
    assert any(line["message"] == "event handled" for line in lines)
    assert len({line.get("poll_id") for line in lines}) == 1
    assert lines[0].get("poll_id")

    idle = bridge_process.run_bridge(
        "--config", str(config), "--log-format", "json", "drain-events"
    )
    assert idle.returncode == ExitCode.OK, idle.stderr
    assert idle.stdout.startswith("drained: fetched=0")
    assert [line["message"] for line in json_logs(idle.stderr)] == []


def test_an_event_that_ends_dead_is_logged_as_an_error(
    tmp_path: Path, simulator: Simulator
) -> None:
    """journalctl -p err shows the events that need a person: those that end dead."""
    simulator.add_generated(40)
    config = bridge_process.write_config(
        tmp_path,
        simulator.url,
        PASSWORD,
        extra="[handlers]\nmax_attempts = 2\n"
        '[handlers.custom]\norder = "erp_double:reject_order"\n',
    )
    args = ("--config", str(config), "--log-format", "json", "drain-events")
    first = json_logs(bridge_process.run_bridge(*args).stderr)
    failures = [line for line in first if line["message"] == "handler failed"]
    assert failures and {(f["level"], f["status"]) for f in failures} == {("warning", "failed")}

    dead = bridge_process.run_bridge("--config", str(config), "replay", "--status", "failed")
    assert dead.returncode == ExitCode.PARTIAL, dead.stderr
    assert "dead=" in dead.stdout
    ended = [line for line in json_logs(dead.stderr) if line["message"] == "handler failed"]
    assert ended and {(e["level"], e["status"]) for e in ended} == {("error", "dead")}


def test_queueing_a_large_file_reports_the_records_read(
    simulator: Simulator, database_url: str, tmp_path: Path
) -> None:
    """push FILE counts the records it has checked and queued, a chunk at a time."""
    from bridge.outbox.queue import push_files

    updates = tmp_path / "customers.jsonl"
    updates.write_text(
        "".join(
            json.dumps({"type": "customer", "id": f"C{n}", "firstname": "Ada"}) + "\n"
            for n in range(2_500)
        ),
        encoding="utf-8",
    )
    progress = Recorder()
    with App.open(settings_for(simulator, database_url)) as app:
        report = push_files(app.outbox(progress), [updates], queue_only=True)
    assert report.queued == 2_500
    read = [done for done, _ in progress.of("checking and queueing ERP records")]
    assert read == [1_000, 2_000, 2_500]

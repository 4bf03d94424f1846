"""``centra-bridge bench`` on a small run: the report's shape and the SOAP calls, never times."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests

from bridge.bench import BenchOptions, BenchReport, run_bench
from bridge.bench.report import Target
from bridge.bench.simproc import SimulatorProcess, ToppedUpQueue
from bridge.cli.bench import PG_URL_ENV
from bridge.cli.main import main
from bridge.errors import ExitCode
from bridge.simulator import FLAVORS, WINDOW_SIZE, Request, Simulator
from bridge.simulator.queue import Event
from bridge.simulator.soap import CENTRA_NS

#: Set by CI: a missing PostgreSQL server fails the run instead of skipping those tests.
REQUIRE_PG_ENV = "CENTRA_BRIDGE_REQUIRE_PG"


@pytest.fixture(scope="module")
def report() -> BenchReport:
    """One small bench for the whole module: 250 events, the naive client on 60, two trials
    of the bridge and its floors; on the tests' PostgreSQL server too when one is set."""
    return run_bench(
        BenchOptions(
            events=250,
            runs=2,
            naive_events=60,
            outbox_records=120,
            input_records=2_000,
            console_events=2_000,
            pg_url=os.environ.get(PG_URL_ENV),
        )
    )


def test_bridge_drains_every_event_in_pages_of_100(report: BenchReport) -> None:
    """Three pages: one events_Get each plus the final empty one, one events_Done each."""
    assert report.bridge.events == 250
    assert report.bridge.calls["events_Get"] == 3
    assert report.bridge.calls["events_Done"] == 3
    assert report.expected_calls() == (3, 3)
    assert sum(report.bridge.outcomes.values()) == 250


def test_the_middle_trial_is_reported_with_the_first_runs_memory(report: BenchReport) -> None:
    """Two trials: the report says so, and its figures are one whole trial's (every event
    handled once, both floors over the same events, a peak of memory read before the end)."""
    assert report.runs == 2
    assert report.render().startswith("centra-bridge bench: 250 events, seed 1, middle of 2 trials")
    assert report.as_dict()["runs"] == 2
    assert sum(report.bridge.outcomes.values()) == 250
    assert 0 < report.bridge.rss_checkpoint_mb <= report.bridge.rss_end_mb
    assert report.floor.events == report.copies_floor.events == 250


def test_floor_and_naive_work_on_the_same_events(report: BenchReport) -> None:
    """The floor re-reads all 250 captured events; the naive client acknowledges one by one."""
    assert report.floor.events == 250
    assert report.naive.events == 60
    assert report.naive.events_done == 60
    assert report.naive.events_get == 2


def test_outbox_push_goes_through_the_outbox_in_batches(report: BenchReport) -> None:
    """120 queued products leave the outbox in batches of the default size (50): 3 calls."""
    assert report.outbox is not None
    assert (report.outbox.records, report.outbox.calls) == (120, 3)
    assert report.outbox.queue_cpu_s > 0 and report.outbox.lxml_cpu_s > 0


def test_large_erp_file_is_queued_in_a_process_of_its_own(report: BenchReport) -> None:
    """Two push --queue-only runs, a tenth and the whole size, each with its peak memory."""
    assert [run.records for run in report.inputs] == [200, 2_000]
    assert all(run.peak_rss_mb > 0 and run.file_mb > 0 for run in report.inputs)
    assert "push --queue-only of 2,000 records" in report.render()


def test_the_console_is_timed_over_http_on_a_filled_store(report: BenchReport) -> None:
    """The overview, a filtered list and a search, each fetched by a logged-in operator."""
    assert report.console is not None and report.console.events == 2_000
    assert set(report.console.seconds) == {
        "overview",
        "failed orders, first page",
        "search by object id",
    }
    assert "console 2,000 events" in report.render()


def test_whole_pipeline_keeps_the_copies_and_counts_statements(report: BenchReport) -> None:
    """The floor with copies reads every event and keeps orders, their lines and customers;
    the bridge's statements are counted for the drain and for the handlers."""
    floor = report.copies_floor
    assert floor.events == 250
    assert floor.orders > 0 and floor.order_lines >= floor.orders and floor.customers > 0
    assert report.bridge.drain_statements > 0 and report.bridge.handle_statements > 0
    assert report.bridge.database == "sqlite"
    assert "drain-events on sqlite" in report.render()


@pytest.mark.postgres
def test_postgres_run_drains_the_same_events(report: BenchReport) -> None:
    """Given a server, the same 250 events are drained and handled there, statements counted."""
    if report.postgres is None:
        if os.environ.get(REQUIRE_PG_ENV):
            pytest.fail(f"{PG_URL_ENV} is not set but {REQUIRE_PG_ENV} is")
        pytest.skip(f"set {PG_URL_ENV} to run against PostgreSQL")
    assert report.postgres.database == "postgresql"
    assert report.postgres.events == 250
    assert sum(report.postgres.outcomes.values()) == 250
    assert report.postgres.outcomes == report.bridge.outcomes
    assert "SQL statements per event on PostgreSQL" in {t.name for t in report.targets()}


def test_targets_cover_the_issue(report: BenchReport) -> None:
    """Every target is reported with its limit; call counts are exact and met."""
    targets = {target.name: target for target in report.targets()}
    assert len(targets) == (12 if report.postgres is not None else 11)
    calls = [target for name, target in targets.items() if "calls" in name]
    assert [target.met for target in calls] == [True, True]
    assert all(target.measured >= 0 for target in targets.values())


def test_json_and_text_carry_the_same_figures(report: BenchReport) -> None:
    """``--json`` is valid JSON with every section; the text names each target."""
    data = json.loads(json.dumps(report.as_dict()))
    assert {
        "machine",
        "bridge",
        "floor",
        "copies_floor",
        "postgres",
        "naive",
        "outbox",
        "targets",
        "ok",
    } <= set(data)
    assert data["bridge"]["calls"] == {"events_Get": 3, "events_Done": 3}
    assert data["ok"] == all(target["met"] for target in data["targets"])
    text = report.render()
    for target in data["targets"]:
        assert target["name"] in text


def test_cli_check_exit_code_follows_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench --check --json``: exit 0 exactly when every target is met."""
    code = main(
        [
            "bench",
            "--events",
            "120",
            "--naive-events",
            "20",
            "--outbox-records",
            "0",
            "--input-records",
            "0",
            "--console-events",
            "0",
            "--check",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert data["bridge"]["events"] == 120
    assert data["outbox"] is None
    assert code == (ExitCode.OK if data["ok"] else ExitCode.PARTIAL)


def test_topped_up_queue_never_shows_a_short_page() -> None:
    """The simulator queues a window at every events_Get, up to the total and no further."""
    with Simulator(seed=3) as sim:
        queue = ToppedUpQueue(sim, total=250)
        queue.fill(60)
        assert sim.queue_length() == 60
        queue.before_request(Request(FLAVORS["soap"], {}, b"", "events_Get"))
        assert sim.queue_length() == WINDOW_SIZE
        queue.fill(1000)
        assert queue.added == sim.queue_length() == 250


def test_topped_up_queue_repeats_the_first_events_under_new_ids() -> None:
    """Beyond ``fresh`` generated events the same ones are queued again, in order, as new ids."""
    sim = RecordingSimulator(seed=3)
    queue = ToppedUpQueue(sim, total=70, fresh=30)
    queue.fill(20)
    queue.fill(1000)  # crosses from generated to repeated within one batch
    ids = [event_id for event_id, _ in sim.queued]
    xml = [event.xml for _, event in sim.queued]
    assert queue.added == sim.queue_length() == len(set(ids)) == 70
    assert xml[:30] == [event.xml for event in Simulator(seed=3).prepare_generated(30)]
    assert len(set(xml[:30])) == 30
    assert xml[30:] == xml[:30] + xml[:10]


class RecordingSimulator(Simulator):
    """Remembers every event queued and the id it got."""

    def __init__(self, *, seed: int) -> None:
        super().__init__(seed=seed)
        self.queued: list[tuple[str, Event]] = []

    def add_prepared(self, events: Sequence[Event]) -> list[str]:
        ids = super().add_prepared(events)
        self.queued += zip(ids, events, strict=True)
        return ids


def test_simulator_process_prints_its_url_and_stops() -> None:
    """The child simulator listens on loopback and is gone after the block."""
    with SimulatorProcess(events=10, seed=1, username="bench", password="pw") as sim:
        assert sim.url.startswith("http://127.0.0.1:")
    assert sim.url


def test_simulator_process_takes_its_password_off_the_command_line() -> None:
    """The child reads the password from stdin: no process shows it, and it logs the bridge in."""
    password = "bench-s3cret-on-stdin"
    login = (
        f"<ns1:login><ns1:username>bench</ns1:username><ns1:password>{password}"
        "</ns1:password></ns1:login>"
    )
    request = (
        f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soapenv:Body><ns1:events_GetRequest xmlns:ns1="{CENTRA_NS}">{login}'
        "<ns1:type>all</ns1:type></ns1:events_GetRequest></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()
    with SimulatorProcess(events=10, seed=1, username="bench", password=password) as sim:
        assert not [line for line in _command_lines() if password.encode() in line]
        answer = requests.post(
            sim.url, data=request, timeout=10, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
    assert answer.status_code == 200, answer.text
    assert answer.content.count(b"<ns1:event>") == 10


def _command_lines() -> list[bytes]:
    """The command line of every process we may read."""
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            lines.append(path.read_bytes())
    return lines


@pytest.mark.parametrize(
    ("kind", "measured", "met"),
    [
        ("max", 3.0, True),
        ("max", 3.1, False),
        ("min", 10.0, True),
        ("min", 9.9, False),
        ("equal", 4.0, True),
        ("equal", 5.0, False),
    ],
)
def test_target_met(kind: str, measured: float, met: bool) -> None:
    """A target compares its measure with its limit as its kind says."""
    limit = {"max": 3.0, "min": 10.0, "equal": 4.0}[kind]
    assert Target("t", measured, limit, kind).met is met

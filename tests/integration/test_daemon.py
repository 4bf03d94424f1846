"""``centra-bridge run`` as a user runs it: a child process, real signals, the simulator, a file."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_harness import Daemon, NotifySocket, bridge, write_config
from erp_double import LEDGER_ENV, deliveries
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, update

from bridge import __version__ as bridge_version
from bridge.errors import ExitCode
from bridge.simulator import EVENTS_DONE_ANSWERS, Hold, Simulator
from bridge.simulator.app import Reply, Request
from bridge.store.models import BridgeState, StoredEvent

PASSWORD = "pw-daemon-5e1f-never-print-me"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=9) as running:
        yield running


def stored(tmp_path: Path) -> tuple[set[str], int]:
    """Event ids in the SQLite file, and how many of them are not acknowledged."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    try:
        with engine.connect() as connection:
            ids = set(connection.scalars(select(StoredEvent.event_id)))
            open_ = connection.scalar(
                select(func.count()).where(StoredEvent.acknowledged_at.is_(None))
            )
    finally:
        engine.dispose()
    return ids, open_ or 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """``GET /metrics``, read by prometheus_client's parser: value by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(metrics: Samples, name: str, **labels: str) -> float | None:
    return metrics.get((name, frozenset(labels.items())))


def fetched(metrics: Samples) -> float:
    """Events fetched, summed over their types."""
    return sum(
        value
        for (name, _), value in metrics.items()
        if name == "centra_bridge_events_fetched_total"
    )


def test_run_picks_up_new_events_and_stops_on_sigterm(tmp_path: Path, simulator: Simulator) -> None:
    """Given a running daemon, events added later arrive; SIGTERM exits 0 with all acknowledged."""
    first = simulator.add_generated(150)
    port = free_port()
    config = write_config(tmp_path, simulator.url, PASSWORD, extra=f"[metrics]\nport = {port}\n")
    daemon = Daemon(config)
    try:
        assert simulator.wait_for(lambda: not simulator.queue(), timeout=30), daemon.output()
        later = [simulator.add_event("order", {"id": f"late-{n}"}) for n in range(5)]
        assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
        assert simulator.wait_for(lambda: fetched(scrape(port)) == 155), scrape(port)
        metrics = scrape(port)
    finally:
        code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    ids, unacknowledged = stored(tmp_path)
    assert set(first + later) <= ids
    assert unacknowledged == 0
    assert set(simulator.acknowledged) == ids
    assert sample(metrics, "centra_bridge_polls_total", result="ok")
    assert sample(metrics, "centra_bridge_events", status="handled", type="order")
    assert sample(metrics, "centra_bridge_events_acknowledged_total", type="order")
    assert "Traceback" not in daemon.output()


def test_json_log_lines_carry_their_text_under_message(
    tmp_path: Path, simulator: Simulator
) -> None:
    """Every JSON line has its text under ``message``, where log shippers look for it."""
    simulator.add_generated(5)
    daemon = Daemon(write_config(tmp_path, simulator.url, PASSWORD))
    try:
        daemon.wait_log(lambda line: "drain finished" in line)
    finally:
        assert daemon.stop() == ExitCode.OK, daemon.output()
    lines = [json.loads(line) for line in daemon.lines]
    assert [line for line in lines if "message" not in line or "event" in line] == []
    assert {"running", "drain finished", "jobs stopped"} <= {line["message"] for line in lines}


def test_metrics_of_a_running_daemon(tmp_path: Path, simulator: Simulator) -> None:
    """/metrics over HTTP: the last success is now (to the second), every Centra call is timed
    by operation, a refused call is counted by kind; HEAD answers without a body."""
    ids = simulator.add_generated(120)
    refused = threading.Event()

    def refuse_one_events_done(request: Request) -> Reply | None:
        if request.operation != "events_Done" or refused.is_set():
            return None
        refused.set()
        return Reply(503, b"busy", "text/plain")

    simulator.faults.append(refuse_one_events_done)
    port = free_port()
    config = write_config(tmp_path, simulator.url, PASSWORD, extra=f"[metrics]\nport = {port}\n")
    daemon = Daemon(config)
    try:
        assert simulator.wait_for(lambda: not simulator.queue(), timeout=30), daemon.output()
        assert simulator.wait_for(lambda: fetched(scrape(port)) == len(ids)), scrape(port)
        metrics = scrape(port)
        scraped_at = time.time()
        head = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", method="HEAD")
        with urllib.request.urlopen(head, timeout=5) as answer:  # noqa: S310 (http:// above)
            head_status, head_body = answer.status, answer.read()
            head_type = answer.headers["Content-Type"]
    finally:
        assert daemon.stop() == ExitCode.OK, daemon.output()
    last = sample(metrics, "centra_bridge_last_poll_success_timestamp_seconds")
    assert last is not None and abs(scraped_at - last) < 10
    calls = "centra_bridge_centra_call_duration_seconds_count"
    assert (sample(metrics, calls, operation="events_Get") or 0) >= 2
    assert (sample(metrics, calls, operation="events_Done") or 0) >= 3, "two pages, one retry"
    errors = "centra_bridge_centra_call_errors_total"
    assert sample(metrics, errors, operation="events_Done", kind="unavailable") == 1
    assert sample(metrics, "centra_bridge_build_info", version=bridge_version) == 1
    assert sample(metrics, "process_start_time_seconds")
    assert (head_status, head_body) == (200, b"")
    assert head_type.startswith("text/plain")


@pytest.mark.parametrize("answer", EVENTS_DONE_ANSWERS)
@pytest.mark.parametrize("command", ["run", "drain-events"])
def test_the_queue_drains_whatever_events_done_answers(
    tmp_path: Path, command: str, answer: str
) -> None:
    """Whichever way Centra answers events_Done (its docs show no capture), run and
    drain-events empty the queue, store every event once and record each as acknowledged."""
    with Simulator(
        username="erp", password=PASSWORD, seed=9, events_done_answer=answer
    ) as simulator:
        ids = simulator.add_generated(150)
        config = write_config(tmp_path, simulator.url, PASSWORD)
        if command == "drain-events":
            drained = bridge(config, "drain-events")
            assert drained.returncode == ExitCode.OK, drained.stderr
        else:
            daemon = Daemon(config)
            try:
                assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
                daemon.wait_log(lambda line: "drain finished" in line)
            finally:
                assert daemon.stop() == ExitCode.OK, daemon.output()
        assert simulator.queue() == []
    assert stored(tmp_path) == (set(ids), 0)


def test_sigterm_during_a_page_finishes_it(tmp_path: Path, simulator: Simulator) -> None:
    """SIGTERM while events_Get is answered: that page is stored and acknowledged, then exit 0."""
    simulator.add_generated(40)
    config = write_config(tmp_path, simulator.url, PASSWORD)
    hold = Hold("events_Get")
    simulator.faults.append(hold)
    daemon = Daemon(config)
    try:
        assert hold.arrived.wait(30), daemon.output()
        daemon.signal(signal.SIGTERM)
        daemon.wait_log(lambda line: "stop requested" in line)
        hold.release()
        code = daemon.wait()
    finally:
        hold.release()
        daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    ids, unacknowledged = stored(tmp_path)
    assert len(ids) == 40 and unacknowledged == 0
    assert simulator.queue() == []


@pytest.mark.parametrize("command", ["run", "drain-events"])
def test_second_signal_exits_at_once(tmp_path: Path, simulator: Simulator, command: str) -> None:
    """A second SIGTERM while a page hangs exits now (128+15); nothing unacknowledged is lost."""
    simulator.add_generated(10)
    config = write_config(tmp_path, simulator.url, PASSWORD)
    hold = Hold("events_Get")
    simulator.faults.append(hold)
    daemon = Daemon(config, command=command)
    try:
        assert hold.arrived.wait(30), daemon.output()
        daemon.signal(signal.SIGTERM)
        daemon.wait_log(lambda line: "stop requested" in line)
        daemon.signal(signal.SIGTERM)
        code = daemon.wait()
    finally:
        hold.release()
    assert code == 128 + signal.SIGTERM
    assert len(simulator.queue()) == 10, "nothing was acknowledged that was not stored"


@pytest.mark.parametrize("command", ["run", "drain-events"])
def test_sigterm_while_handling_stops_after_the_batch_in_flight(
    tmp_path: Path, simulator: Simulator, command: str
) -> None:
    """A stop during the handler phase waits for the batch in flight, not the whole backlog;
    the events not reached stay due and are handled by the next run."""
    simulator.add_generated(600)
    ledger = tmp_path / "ledger"
    config = write_config(
        tmp_path,
        simulator.url,
        PASSWORD,
        extra='[handlers.custom]\norder = "erp_double:slow_order"\n',
    )
    process = Daemon(config, command=command, env={LEDGER_ENV: str(ledger)})
    assert wait_until(lambda: bool(deliveries(ledger))), process.output()
    process.signal(signal.SIGTERM)
    code = process.wait()
    assert code == (ExitCode.PARTIAL if command == "drain-events" else ExitCode.OK)
    assert simulator.queue() == [], "every page was stored and acknowledged first"
    status = json.loads(bridge(config, "status", "--json").stdout)
    assert status["events"]["by_status"]["new"] > 0, "the backlog was left for the next run"
    assert len(deliveries(ledger)) < simulator.events_added["order"]
    again = bridge(config, "drain-events")
    assert again.returncode == ExitCode.OK, again.stderr
    status = json.loads(bridge(config, "status", "--json").stdout)
    assert status["events"]["by_status"]["new"] == 0


def wait_until(condition: Callable[[], bool], timeout_s: float = 30) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passes (for files a child writes)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_second_signal_stops_a_push_at_once(tmp_path: Path, simulator: Simulator) -> None:
    """push follows the same rule: a second SIGTERM while Centra holds its batch exits now,
    and the record it was sending stays queued for the next push."""
    config = write_config(tmp_path, simulator.url, PASSWORD)
    updates = tmp_path / "stock.jsonl"
    updates.write_text('{"type": "product", "id": "P1", "sku": "P1"}\n', encoding="utf-8")
    hold = Hold("products_Update")
    simulator.faults.append(hold)
    push = Daemon(config, str(updates), command="push")
    try:
        assert hold.arrived.wait(30), push.output()
        push.signal(signal.SIGTERM)
        push.wait_log(lambda line: "stop requested" in line)
        push.signal(signal.SIGTERM)
        code = push.wait()
    finally:
        hold.release()
    assert code == 128 + signal.SIGTERM
    status = bridge(config, "status", "--json")
    assert json.loads(status.stdout)["outbox"]["by_status"] == {"queued": 1}, status.stderr


@pytest.mark.parametrize("command", [("run",), ("drain-events",)])
def test_second_poller_on_the_same_store_is_refused(
    tmp_path: Path, simulator: Simulator, database_url: str, command: tuple[str, ...]
) -> None:
    """While one run polls a store, another run or drain-events refuses: one line, exit 8."""
    config = write_config(tmp_path, simulator.url, PASSWORD, database=database_url)
    daemon = Daemon(config)
    try:
        daemon.wait_log(lambda line: '"running"' in line)
        second = bridge(config, *command)
    finally:
        assert daemon.stop() == ExitCode.OK, daemon.output()
    assert second.returncode == ExitCode.LOCKED, second.stderr
    last = second.stderr.strip().splitlines()[-1]
    assert last.startswith("centra-bridge: another centra-bridge already polls this store")
    assert "--standby" in last


def test_standby_takes_over_when_the_poller_stops(
    tmp_path: Path, simulator: Simulator, notify: NotifySocket
) -> None:
    """A --standby run reports READY and waits; when the poller stops, it polls the store."""
    config = write_config(tmp_path, simulator.url, PASSWORD)
    active = Daemon(config)
    standby: Daemon | None = None
    try:
        active.wait_log(lambda line: '"running"' in line)
        standby = Daemon(config, "--standby", env={"NOTIFY_SOCKET": str(notify.path)})
        assert "STATUS=standby" in notify.wait_for("READY=1")
        assert active.stop() == ExitCode.OK
        notify.wait_for("STATUS=started")
        simulator.add_generated(20)
        assert simulator.wait_for(lambda: not simulator.queue()), standby.output()
    finally:
        active.stop()
        code = standby.stop() if standby else None
    assert code == ExitCode.OK
    assert stored(tmp_path) == (set(simulator.acknowledged), 0)


def test_standby_stops_on_sigterm_while_waiting(tmp_path: Path, simulator: Simulator) -> None:
    """A standby that never got the lock exits 0 on SIGTERM at once."""
    config = write_config(tmp_path, simulator.url, PASSWORD)
    active = Daemon(config)
    try:
        active.wait_log(lambda line: '"running"' in line)
        standby = Daemon(config, "--standby")
        standby.wait_log(lambda line: "standby" in line)
        assert standby.stop() == ExitCode.OK
    finally:
        assert active.stop() == ExitCode.OK


def test_sighup_reloads_a_rotated_password(tmp_path: Path, simulator: Simulator) -> None:
    """A refused login is retried; after the password is fixed, SIGHUP makes the next poll work."""
    simulator.add_generated(12)
    config = write_config(tmp_path, simulator.url, "old-" + PASSWORD)
    daemon = Daemon(config)
    try:
        daemon.wait_log(lambda line: "poll failed: login refused" in line)
        config.write_text(config.read_text().replace("old-" + PASSWORD, PASSWORD))
        daemon.signal(signal.SIGHUP)
        daemon.wait_log(lambda line: "configuration reloaded" in line)
        assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
    finally:
        assert daemon.stop() == ExitCode.OK, daemon.output()
    assert PASSWORD not in daemon.output()


def test_unreachable_centra_never_stops_the_daemon(tmp_path: Path) -> None:
    """Nothing listening: polls fail and are logged, the daemon keeps running, SIGTERM exits 0."""
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}/soap", PASSWORD)
    daemon = Daemon(config)
    daemon.wait_log(lambda line: "Centra unreachable" in line)
    assert daemon.process.poll() is None
    assert daemon.stop() == ExitCode.OK, daemon.output()


def test_status_exit_code_follows_the_last_successful_poll(
    tmp_path: Path, simulator: Simulator
) -> None:
    """status --max-age: exit 9 before any poll and when the last one is old, 0 when recent."""
    simulator.add_generated(5)
    config = write_config(tmp_path, simulator.url, PASSWORD)
    assert bridge(config, "db", "upgrade").returncode == ExitCode.OK
    never = bridge(config, "status", "--max-age", "60")
    assert never.returncode == ExitCode.STALE
    assert "no successful poll recorded" in never.stderr

    assert bridge(config, "drain-events").returncode == ExitCode.OK
    fresh = bridge(config, "status", "--json", "--max-age", "60")
    assert fresh.returncode == ExitCode.OK, fresh.stderr
    assert json.loads(fresh.stdout)["poll"]["age_s"] < 60

    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    with engine.begin() as connection:
        connection.execute(update(BridgeState).values(at=datetime.now(UTC) - timedelta(hours=2)))
    engine.dispose()
    old = bridge(config, "status", "--max-age", "60")
    assert old.returncode == ExitCode.STALE
    assert "last successful poll 720" in old.stderr.strip().splitlines()[-1]
    assert "last poll ok" in old.stdout


def test_drop_directory_is_pushed_while_running(tmp_path: Path, simulator: Simulator) -> None:
    """A file dropped while the daemon runs reaches Centra and moves to processed/."""
    drop = tmp_path / "drop"
    drop.mkdir()
    config = write_config(
        tmp_path,
        simulator.url,
        PASSWORD,
        extra=f'push = 0.5\n[outbox]\ndirectory = "{drop}"\n',
    )
    daemon = Daemon(config)
    try:
        update = {"type": "customer", "id": "C-77", "firstname": "Ada"}
        (drop / "customers.jsonl.part").write_text(json.dumps(update) + "\n", encoding="utf-8")
        (drop / "customers.jsonl.part").rename(drop / "customers.jsonl")
        assert simulator.wait_for(lambda: "C-77" in simulator.customers), daemon.output()
        assert simulator.customers["C-77"]["firstname"] == "Ada"
        processed = drop / "processed"
        assert simulator.wait_for(lambda: any(processed.glob("*customers.jsonl*"))), daemon.output()
    finally:
        code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()

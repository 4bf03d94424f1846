"""The daemon as systemd sees it: sd_notify, the watchdog, journald priorities, the unit's score."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Daemon, NotifySocket, child_env, write_config

from bridge.errors import ExitCode
from bridge.simulator import Hold, Simulator
from bridge.simulator.app import Reply, Request

PASSWORD = "pw-systemd-9a3c-never-print-me"
UNIT = Path(__file__).parents[2] / "systemd" / "centra-bridge.service"
#: The issue's bar for `systemd-analyze security --offline=true`.
MAX_EXPOSURE = 2.0


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=3) as running:
        yield running


def test_watchdog_is_fed_only_while_polls_progress(
    tmp_path: Path, simulator: Simulator, notify: NotifySocket
) -> None:
    """Given a hung events_Get, WATCHDOG=1 stops; once the poll goes on, it comes back."""
    config = write_config(tmp_path, simulator.url, PASSWORD, extra="stall_after = 1\n")
    hold = Hold("events_Get", armed=False)
    simulator.faults.append(hold)
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    daemon = Daemon(config, env=env)
    try:
        assert "STATUS=started" in notify.wait_for("READY=1")
        notify.wait_for("WATCHDOG=1")
        hold.armed.set()
        assert hold.arrived.wait(20), daemon.output()
        daemon.wait_log(lambda line: "no longer feeding the watchdog" in line)
        notify.drain()
        quiet = [m for m in iter(lambda: notify.next(timeout=1.0), None) if "WATCHDOG=1" in m]
        assert quiet == [], "no WATCHDOG=1 while the poll hangs"
        hold.release()
        notify.wait_for("WATCHDOG=1")
        daemon.wait_log(lambda line: "poll loop progressing again" in line)
    finally:
        hold.release()
        code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    assert "STOPPING=1" in notify.wait_for("STOPPING=1")


def test_runs_unchanged_without_systemd(tmp_path: Path, simulator: Simulator) -> None:
    """No NOTIFY_SOCKET: sd_notify does nothing, the daemon polls all the same."""
    simulator.add_generated(7)
    daemon = Daemon(write_config(tmp_path, simulator.url, PASSWORD))
    try:
        assert simulator.wait_for(lambda: not simulator.queue()), daemon.output()
    finally:
        assert daemon.stop() == ExitCode.OK, daemon.output()
    assert "sd_notify failed" not in daemon.output()


def test_logs_carry_priorities_and_never_the_password(tmp_path: Path, simulator: Simulator) -> None:
    """Debug JSON lines to the journal: every line has <N>, a poll id on poll lines, no password.

    Neither the log nor the database files contain the password, even with a Centra fault and
    a handler that raises along the way.
    """
    simulator.add_generated(60)
    failing = threading.Event()

    def fault_once(request: Request) -> Reply | None:
        if request.operation == "events_Get" and not failing.is_set():
            failing.set()
            return Reply(503, b"busy " + PASSWORD.encode(), "text/plain")
        return None

    simulator.faults.append(fault_once)
    config = write_config(tmp_path, simulator.url, PASSWORD)
    config.write_text(config.read_text() + '[logging]\nlevel = "debug"\n')
    read, write = os.pipe()
    status = os.fstat(write)
    env = child_env({"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"})
    child = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", str(config), "--log-format", "json", "run"],
        stdout=subprocess.DEVNULL,
        stderr=write,
        env=env,
    )
    os.close(write)
    try:
        assert simulator.wait_for(lambda: not simulator.queue()), "queue not drained"
    finally:
        child.terminate()
        assert child.wait(20) == ExitCode.OK
    with os.fdopen(read, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    assert lines
    assert all(re.match(r"<[2-7]>\{", line) for line in lines), lines[:3]
    assert any(line.startswith("<4>") for line in lines), "the 503 is a warning"
    assert [line for line in lines if '"job": "poll"' in line and '"poll_id"' not in line] == []
    everything = "\n".join(lines)
    assert PASSWORD not in everything
    for path in tmp_path.glob("bridge.db*"):
        assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.skipif(
    not shutil.which("systemd-analyze") and not os.environ.get("CI"),
    reason="systemd-analyze is not installed (CI requires it)",
)
def test_service_unit_exposure_is_low() -> None:
    """`systemd-analyze security --offline=true` rates the service unit 2.0 or lower."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    print(f"{UNIT.name}: exposure {found.group(1)}")
    assert float(found.group(1)) <= MAX_EXPOSURE

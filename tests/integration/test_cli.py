"""The command line as a user runs it: a real child process, the simulator, a SQLite file."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import bridge_process
import pytest
from bridge_process import bridge_command, child_env
from erp_double import LEDGER_ENV, deliveries

from bridge.errors import ExitCode
from bridge.simulator import Hold, Simulator
from bridge.simulator.app import Reply

PASSWORD = "pw-77c1-never-print-me"
bridge = bridge_process.run_bridge


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=5) as running:
        yield running


def write_config(tmp_path: Path, endpoint: str, password: str = PASSWORD, extra: str = "") -> Path:
    return bridge_process.write_config(tmp_path, endpoint, password, extra)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("centra-bridge: ")
    assert text in last
    assert PASSWORD not in result.stderr + result.stdout


def test_demo_drains_everything(tmp_path: Path) -> None:
    """README command one: the simulator's events all arrive, the queue ends empty."""
    result = bridge("demo", "--events", "150", "--database", str(tmp_path / "demo.db"))
    assert result.returncode == 0, result.stderr
    assert "drained: fetched=150 new=150 duplicates=0" in result.stdout
    assert "150 of 150 events stored, 0 unacknowledged, 0 left in the simulator's queue" in (
        result.stdout
    )


def test_bad_config_names_file_and_key(tmp_path: Path) -> None:
    """A wrong value is one line naming the file and the key; exit code 2."""
    config = write_config(tmp_path, "http://127.0.0.1:9/x", extra="")
    config.write_text(config.read_text().replace("timeout = 5", 'timeout = "soon"'))
    result = bridge("--config", str(config), "drain-events")
    assert_one_line_error(
        result, ExitCode.CONFIG, f"{config}: [centra] timeout: must be a positive number"
    )


def test_a_missing_database_folder_is_one_line(tmp_path: Path, simulator: Simulator) -> None:
    """drain-events on a SQLite file whose folder is missing: one line naming it, exit 7."""
    config = write_config(tmp_path, simulator.url)
    missing = f"sqlite:///{tmp_path}/gone/b.db"
    config.write_text(config.read_text().replace("sqlite:///bridge.db", missing))
    result = bridge("--config", str(config), "drain-events")
    assert_one_line_error(result, ExitCode.DATABASE, f"{tmp_path}/gone/b.db.lock")


def test_a_short_password_is_accepted_with_a_warning(tmp_path: Path) -> None:
    """A password under eight characters works, with a warning that never shows it."""
    config = write_config(tmp_path, "http://127.0.0.1:9/x", password="k9#Qz")
    result = bridge("--config", str(config), "config", "check")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "password is short" in result.stderr
    assert "k9#Qz" not in result.stderr + result.stdout


def test_config_from_environment_variable(tmp_path: Path, simulator: Simulator) -> None:
    """CENTRA_BRIDGE_CONFIG works where --config is not given."""
    config = write_config(tmp_path, simulator.url)
    assert bridge("db", "upgrade", env={"CENTRA_BRIDGE_CONFIG": str(config)}).returncode == 0
    result = bridge("status", "--json", env={"CENTRA_BRIDGE_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["events"]["total"] == 0


def test_bad_credentials(tmp_path: Path, simulator: Simulator) -> None:
    """A refused login is one line, exit code 3, and the password is printed nowhere."""
    simulator.add_generated(5)
    config = write_config(tmp_path, simulator.url, password="wrong-" + PASSWORD)
    result = bridge("--config", str(config), "drain-events")
    assert_one_line_error(result, ExitCode.AUTH, "Centra refused the login")
    assert "wrong-" + PASSWORD not in result.stderr
    assert len(simulator.queue()) == 5


def test_unreachable_centra(tmp_path: Path) -> None:
    """Nothing listening: exit code 4 with a one-line reason."""
    config = write_config(tmp_path, "http://127.0.0.1:9/ams/system/service/module/soap/api")
    result = bridge("--config", str(config), "drain-events")
    assert_one_line_error(result, ExitCode.UNAVAILABLE, "Centra unreachable")


def test_drain_status_and_replay(tmp_path: Path, simulator: Simulator) -> None:
    """drain-events answers one line; status --json is clean JSON; replay never calls Centra."""
    simulator.add_generated(60)
    config = write_config(tmp_path, simulator.url)
    drained = bridge("--config", str(config), "--log-level", "debug", "drain-events")
    assert drained.returncode == 0, drained.stderr
    assert drained.stdout.startswith("drained: fetched=60 new=60")
    assert len(drained.stdout.strip().splitlines()) == 1
    assert "poll_id" in drained.stderr and "event_id" in drained.stderr
    assert PASSWORD not in drained.stderr, "the password is never logged, not even at debug"
    for database_file in tmp_path.glob("bridge.db*"):
        assert PASSWORD.encode() not in database_file.read_bytes()

    status = json.loads(bridge("--config", str(config), "status", "--json").stdout)
    assert status["events"]["total"] == 60
    assert status["events"]["by_status"]["new"] == 0
    assert status["events"]["unacknowledged"] == 0

    calls_before = len(simulator.calls)
    dry = bridge("--config", str(config), "replay", "--type", "order", "--dry-run", "--json")
    would = json.loads(dry.stdout)["would_replay"]
    assert would and all(row["type"] == "order" for row in would)
    replayed = bridge("--config", str(config), "replay", "--type", "order", "--json")
    assert replayed.returncode == 0, replayed.stderr
    answer = json.loads(replayed.stdout)
    assert answer["replayed"] == len(would)
    assert answer.get("handled", 0) + answer.get("superseded", 0) == len(would)
    assert len(simulator.calls) == calls_before, "replay must not talk to Centra"


def test_replay_of_unknown_event_id_is_refused(tmp_path: Path, simulator: Simulator) -> None:
    """Asking to replay an event that is not stored names the id."""
    config = write_config(tmp_path, simulator.url)
    result = bridge("--config", str(config), "replay", "999999")
    assert_one_line_error(result, ExitCode.CONFIG, "no stored event with id 999999")


def test_crash_between_commit_and_acknowledge(tmp_path: Path, simulator: Simulator) -> None:
    """SIGKILL while events_Done is in flight: the next run loses nothing, doubles nothing."""
    simulator.add_generated(80)
    ledger = tmp_path / "ledger.txt"
    config = write_config(
        tmp_path,
        simulator.url,
        extra='[handlers.custom]\norder = "erp_double:deliver_order"\n',
    )
    hold = Hold("events_Done", then=Reply(503, b"gone", "text/plain"))
    simulator.faults.append(hold)
    child = subprocess.Popen(
        bridge_command("--config", str(config), "drain-events"),
        env=child_env({LEDGER_ENV: str(ledger)}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert hold.arrived.wait(30), "the child never reached events_Done"
        process_list_entry = Path(f"/proc/{child.pid}/cmdline").read_bytes()
        assert PASSWORD.encode() not in process_list_entry, "the password is not in `ps`"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        hold.release()
    assert len(simulator.queue()) == 80, "Centra never saw the acknowledgement"
    assert deliveries(ledger) == [], "handlers run only after the acknowledgement"

    again = bridge("--config", str(config), "drain-events", env={LEDGER_ENV: str(ledger)})
    assert again.returncode == 0, again.stderr
    assert "duplicates=80" in again.stdout
    assert simulator.queue() == []
    delivered = deliveries(ledger)
    assert delivered, "the orders were delivered on the second run"
    assert len(delivered) == len(set(delivered))

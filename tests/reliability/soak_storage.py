"""Storage faults under a running drain: the store deleted, the disk full.

Two kinds of round, alternating:

* **deleted**: ``drain-events`` or ``run`` drains a slow Centra; at a random events_Get the
  store's folder is deleted while that call is held. The page that follows lands in a
  deleted file, so nothing more may be acknowledged: Centra must keep every event the
  bridge had not acknowledged before the deletion, and the command must exit 7.
* **full**: the store lives on a small tmpfs (root only); at a random moment a filler file
  takes the space that is left, so SQLite fails with "database or disk is full". Whatever
  was acknowledged must be in the store; once the space is back, a drain finishes the queue.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bridge_process import bridge_command, child_env, run_bridge, write_config
from sqlalchemy import create_engine, inspect, select

from bridge.errors import ExitCode
from bridge.simulator import Fault, FaultPlan, Hold, Simulator
from bridge.store.models import StoredEvent

PASSWORD = "soak-storage-pw-51d2"


@dataclass
class StorageOutcome:
    deleted_rounds: int = 0
    full_rounds: int = 0
    #: Full rounds where the disk filled while the drain ran (it stopped, exit 7).
    full_mid_drain: int = 0
    #: Events acknowledged after their store was deleted (must be 0).
    acknowledged_after_deletion: int = 0
    #: Events acknowledged but in no store after a full disk (must be 0).
    acknowledged_not_stored: int = 0
    stored_twice: int = 0
    #: Rounds whose command did not end as expected (exit code, or hanging).
    wrong_exits: list[str] = field(default_factory=list)
    left_in_centra: int = 0

    @property
    def lost(self) -> int:
        return self.acknowledged_after_deletion + self.acknowledged_not_stored


def run_storage_soak(rounds: int, events: int, rng: random.Random) -> StorageOutcome:
    outcome = StorageOutcome()
    for number in range(rounds):
        if number % 2 == 0:
            _deleted_round(outcome, events, rng, "run" if number % 4 else "drain-events")
        elif os.geteuid() == 0:
            _full_round(outcome, events, rng)
    return outcome


def _deleted_round(outcome: StorageOutcome, events: int, rng: random.Random, command: str) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        Simulator(username="erp", password=PASSWORD, seed=rng.randrange(1 << 30)) as simulator,
    ):
        work = Path(folder)
        simulator.add_generated(events)
        simulator.inject(FaultPlan([Fault("latency", rate=1.0, delay_s=0.05)]))
        state = work / "state"
        state.mkdir()
        config = _config(work, simulator.url, state / "b.db")
        hold = Hold("events_Get", armed=False)
        simulator.faults.append(hold)
        child = _start(config, command)
        threading.Timer(rng.uniform(0.2, 2.0), hold.armed.set).start()
        try:
            if hold.arrived.wait(60):
                before = set(simulator.acknowledged)
                shutil.rmtree(state)
                hold.release()
                code = _wait(child, 60)
                after = set(simulator.acknowledged)
                outcome.acknowledged_after_deletion += len(after - before)
                if code != ExitCode.DATABASE:
                    outcome.wrong_exits.append(f"{command} after deletion: exit {code}")
            else:
                outcome.wrong_exits.append(f"{command}: drained before the hold armed")
        finally:
            hold.armed.set()
            hold.release()
            _kill(child)
        outcome.deleted_rounds += 1


def _full_round(outcome: StorageOutcome, events: int, rng: random.Random) -> None:
    with (
        _tmpfs(megabytes=160) as state,
        tempfile.TemporaryDirectory() as folder,
        Simulator(username="erp", password=PASSWORD, seed=rng.randrange(1 << 30)) as simulator,
    ):
        work = Path(folder)
        simulator.add_generated(events)
        simulator.inject(FaultPlan([Fault("latency", rate=1.0, delay_s=0.02)]))
        database = state / "b.db"
        config = _config(work, simulator.url, database)
        child = _start(config, "drain-events")
        filler = state / "filler"
        filling = threading.Timer(rng.uniform(0.3, 3.0), lambda: _fill(filler))
        filling.start()
        code = _wait(child, 120)
        filling.join()  # the filler holds its space until the disk is full and it lets go
        outcome.full_mid_drain += code == ExitCode.DATABASE
        if code not in (ExitCode.OK, ExitCode.DATABASE):
            outcome.wrong_exits.append(f"drain-events on a full disk: exit {code}")
        acknowledged = set(simulator.acknowledged)
        outcome.acknowledged_not_stored += len(acknowledged - _stored(database)[0])
        filler.unlink(missing_ok=True)
        final = run_bridge("--config", str(config), "drain-events", timeout=300)
        if final.returncode != 0:
            outcome.wrong_exits.append(f"drain-events after space came back: {final.returncode}")
        stored, twice = _stored(database)
        outcome.acknowledged_not_stored += len(set(simulator.acknowledged) - stored)
        outcome.stored_twice += twice
        outcome.left_in_centra += simulator.queue_length()
        outcome.full_rounds += 1


def _config(work: Path, url: str, database: Path) -> Path:
    config = write_config(work, url, PASSWORD)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("sqlite:///bridge.db", f"sqlite:///{database}"), "utf-8")
    return config


def _start(config: Path, command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        bridge_command("--config", str(config), command),
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(child: subprocess.Popen[bytes], timeout: float) -> int | str:
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hung"


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
        child.wait()


def _fill(path: Path) -> None:
    """Take every free byte of the file system ``path`` is on."""
    with contextlib.suppress(OSError), path.open("wb") as file:
        while True:
            file.write(b"\0" * 65536)
            file.flush()


def _stored(database: Path) -> tuple[set[str], int]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        migrated = inspect(connection).has_table(StoredEvent.__tablename__)
        ids = list(connection.scalars(select(StoredEvent.event_id))) if migrated else []
    engine.dispose()
    return set(ids), len(ids) - len(set(ids))


@contextlib.contextmanager
def _tmpfs(megabytes: int) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as mountpoint:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", mountpoint], check=True
        )
        try:
            yield Path(mountpoint)
        finally:
            subprocess.run(["umount", "-l", mountpoint], check=False)

"""A store that vanishes under a running drain: nothing more is acknowledged into it.

SQLite keeps writing to a deleted file through the connection already open, and every commit
succeeds; acknowledging those events would make Centra forget events that are in no store.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import Daemon, write_config

from bridge.errors import ExitCode
from bridge.simulator import Hold, Simulator

PASSWORD = "store-gone-pw-8c1e"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=5) as running:
        yield running


@pytest.mark.parametrize("command", ["drain-events", "run"])
def test_a_deleted_store_gets_no_acknowledgement(
    tmp_path: Path, simulator: Simulator, command: str
) -> None:
    """The store's folder is deleted while a page is in flight: the page lands in the deleted
    file, nothing of it is acknowledged, and the command exits 7 saying why."""
    queued = simulator.add_generated(150)
    state = tmp_path / "state"
    state.mkdir()
    config = write_config(
        tmp_path, simulator.url, PASSWORD, database=f"sqlite:///{state / 'bridge.db'}"
    )
    hold = Hold("events_Get")
    simulator.faults.append(hold)
    process = Daemon(config, command=command)
    try:
        assert hold.arrived.wait(30), process.output()
        shutil.rmtree(state)
        hold.release()
        code = process.wait()
    finally:
        hold.release()
        if process.process.poll() is None:
            process.signal(signal.SIGKILL)
    assert code == ExitCode.DATABASE, process.output()
    assert simulator.acknowledged == [], "nothing was acknowledged into the deleted store"
    assert sorted(simulator.queue(), key=int) == sorted(queued, key=int)
    assert "nothing more is acknowledged" in process.output()

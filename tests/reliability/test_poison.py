"""Poison events: one order the ERP cannot take never slows the others, ends dead, replays."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_process import run_bridge, write_config
from erp_double import POISON_ENV

from bridge.simulator import Simulator

PASSWORD = "poison-pw-9c41"
POISON_ORDER = """
<ns1:order xmlns:ns1="http://www.centra.com/webservices/">
  <ns1:id>POISON-1</ns1:id><ns1:type>retail</ns1:type><ns1:status>confirmed</ns1:status>
  <ns1:currency>EUR</ns1:currency>
</ns1:order>
"""


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=8) as running:
        running.add_generated(40)
        running.add_event("order", None, entry="POISON-1", payload_xml=POISON_ORDER)
        running.add_generated(40)
        yield running


def statuses(workdir: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(workdir / "bridge.db") as db:
        rows = db.execute("select entry, type, status, last_error from events").fetchall()
    return {entry: (status, error) for entry, kind, status, error in rows if kind == "order"}


def config(simulator: Simulator, workdir: Path, handler: str) -> Path:
    return write_config(
        workdir,
        simulator.url,
        PASSWORD,
        extra=f"[handlers]\nmax_attempts = 3\nretry_base = 0.001\nretry_max = 0.001\n"
        f'[handlers.custom]\norder = "erp_double:{handler}"\n',
    )


def test_failing_poison_goes_dead_then_replays(simulator: Simulator, tmp_path: Path) -> None:
    """The poison order fails, is retried, parks as dead; after the fix, replay handles it."""
    path = config(simulator, tmp_path, "poison_order")
    poisoned = {POISON_ENV: "POISON-1"}
    first = run_bridge("--config", str(path), "drain-events", env=poisoned)
    assert first.returncode == 0, first.stderr
    assert "failed=1" in first.stdout
    assert simulator.queue() == []
    others = {entry: s for entry, s in statuses(tmp_path).items() if entry != "POISON-1"}
    assert others and all(status == "handled" for status, _ in others.values())

    for _ in range(2):
        run_bridge("--config", str(path), "drain-events", env=poisoned)
    status, error = statuses(tmp_path)["POISON-1"]
    assert status == "dead"
    assert error == "ValueError: ERP cannot book order POISON-1: unknown VAT code"

    replayed = run_bridge("--config", str(path), "replay", "--status", "dead", "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["handled"] == 1
    assert statuses(tmp_path)["POISON-1"][0] == "handled"


def test_poison_that_kills_the_process(simulator: Simulator, tmp_path: Path) -> None:
    """A handler that takes the process down: the queue still drains; the event ends dead."""
    path = config(simulator, tmp_path, "die_on_poison")
    poisoned = {POISON_ENV: "POISON-1"}
    codes = [
        run_bridge("--config", str(path), "drain-events", env=poisoned).returncode for _ in range(4)
    ]
    assert codes[0] == 70, "the first run died inside the handler"
    assert simulator.queue() == [], "but only after every page was stored and acknowledged"
    assert codes[-1] == 0
    final = statuses(tmp_path)
    status, error = final.pop("POISON-1")
    assert status == "dead"
    assert error and "process died" in error
    assert all(status == "handled" for status, _ in final.values())

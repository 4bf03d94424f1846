"""Kill the bridge at random moments and let it finish: the bookkeeping tests and soak share.

Each round starts ``drain-events`` as a child process and SIGKILLs it after a random delay;
a last round runs to completion. The handler is ``erp_double:file_order``: it keeps the order
copy and writes one file per delivered event (atomically, named by event id), and a ledger
line per call, so both the effect (files) and the calls (ledger) can be counted.
"""

from __future__ import annotations

import random
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bridge_process import bridge_command, child_env, run_bridge, write_config
from erp_double import LEDGER_ENV, SINK_ENV, deliveries
from sqlalchemy import create_engine, select

from bridge.simulator import Simulator
from bridge.store.models import StoredEvent


@dataclass
class CrashOutcome:
    """What a crash run did and what it left behind."""

    kills: int = 0
    events_queued: int = 0
    stored: int = 0
    stored_twice: int = 0
    unacknowledged: int = 0
    left_in_centra: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    #: Order events that should have reached the ERP, and the files that did.
    orders_expected: int = 0
    delivered_files: int = 0
    #: Files beyond one per event id: an effect that happened twice.
    doubled_files: int = 0
    #: Handler calls beyond one per order: a kill between the ERP write and the commit.
    redelivered_calls: int = 0

    @property
    def lost(self) -> int:
        return self.events_queued - self.stored + (self.orders_expected - self.delivered_files)


def crash_and_finish(
    simulator: Simulator,
    workdir: Path,
    password: str,
    *,
    kills: int,
    rng: random.Random,
    max_delay_s: float = 1.0,
) -> CrashOutcome:
    """SIGKILL ``drain-events`` ``kills`` times at random moments, then let it finish."""
    sink = workdir / "sink"
    sink.mkdir(exist_ok=True)
    ledger = workdir / "ledger.txt"
    config = write_config(
        workdir,
        simulator.url,
        password,
        extra='[handlers.custom]\norder = "erp_double:file_order"\n',
    )
    env = {LEDGER_ENV: str(ledger), SINK_ENV: str(sink)}
    outcome = CrashOutcome(events_queued=len(simulator.queue()))
    for _ in range(kills):
        child = subprocess.Popen(
            bridge_command("--config", str(config), "drain-events"),
            env=child_env(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=rng.uniform(0.05, max_delay_s))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
            outcome.kills += 1
    final = run_bridge("--config", str(config), "drain-events", env=env, timeout=300)
    if final.returncode != 0:
        raise AssertionError(f"the last run failed: {final.stderr[-2000:]}")
    return _count(outcome, simulator, workdir, sink, ledger)


def _count(
    outcome: CrashOutcome, simulator: Simulator, workdir: Path, sink: Path, ledger: Path
) -> CrashOutcome:
    engine = create_engine(f"sqlite:///{workdir / 'bridge.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                StoredEvent.event_id,
                StoredEvent.type,
                StoredEvent.status,
                StoredEvent.acknowledged_at,
            )
        ).all()
    engine.dispose()
    ids = Counter(row.event_id for row in rows)
    outcome.stored = len(ids)
    outcome.stored_twice = sum(1 for count in ids.values() if count > 1)
    outcome.unacknowledged = sum(1 for row in rows if row.acknowledged_at is None)
    outcome.left_in_centra = len(simulator.queue())
    outcome.statuses = Counter(row.status for row in rows)
    order_ids = {row.event_id for row in rows if row.type == "order"}
    outcome.orders_expected = len(order_ids)
    files = Counter(
        path.name.rsplit("-", 1)[-1].removesuffix(".xml") for path in sink.glob("*.xml")
    )
    outcome.delivered_files = len(set(files) & order_ids)
    outcome.doubled_files = sum(count - 1 for count in files.values())
    calls = Counter(deliveries(ledger))
    outcome.redelivered_calls = sum(count - 1 for count in calls.values() if count > 1)
    return outcome

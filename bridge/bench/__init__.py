"""``centra-bridge bench``: the bridge's drain-events against its floors and a naive client.

Every figure comes from the same run on the same simulator data: the simulator runs in a child
process over loopback, the bridge drains it as in production and its handlers keep the copies,
the floors re-read the very bytes the bridge received (one only storing the events, one also
keeping the copies), and the naive client drains a fresh simulator with the same seed. Given a
PostgreSQL server, the bridge drains the same events once more into a database of its own
there. Only the bridge's own process is measured (CPU with ``time.process_time``, memory as
VmHWM, statements with a SQLAlchemy event).

The floors' pages are done between the bridge's own pages and batches, so that both sides are
measured at the same speed of a shared machine whose speed drifts with its neighbours' work
(measured minutes apart, the same code gave 2.45x and 3.19x). The whole is done ``runs``
times and the middle trial by the headline ratio is reported. Memory is read on the first
run, the only one whose peak is its own.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bridge.bench.console import run_console
from bridge.bench.floor import CopiesFloorRun, FloorRun, Floors
from bridge.bench.input import run_input
from bridge.bench.naive import run_naive
from bridge.bench.outbox import run_outbox
from bridge.bench.pgserver import fresh_database
from bridge.bench.phases import BridgeRun, run_bridge
from bridge.bench.report import BenchReport, whole_ratio
from bridge.bench.simproc import SimulatorProcess

DEFAULT_EVENTS = 10_000
#: The naive client is slow; it drains at most this many events (its rate is per event).
DEFAULT_NAIVE_EVENTS = 2_000
DEFAULT_OUTBOX_RECORDS = 10_000
#: ERP files queued for the memory figure: ``input_records``, and a small one beside it of
#: this many (or a tenth of it, for short runs).
SMALL_INPUT_RECORDS = 10_000
DEFAULT_INPUT_RECORDS = 200_000
#: Events in the store the web console's pages are timed on.
DEFAULT_CONSOLE_EVENTS = 100_000
#: Trials of the bridge with its floors beside it (the middle one is reported).
DEFAULT_RUNS = 3
_USERNAME = "bench"

__all__ = [
    "DEFAULT_CONSOLE_EVENTS",
    "DEFAULT_EVENTS",
    "DEFAULT_INPUT_RECORDS",
    "DEFAULT_RUNS",
    "BenchOptions",
    "BenchReport",
    "run_bench",
]


@dataclass(frozen=True, slots=True)
class BenchOptions:
    events: int = DEFAULT_EVENTS
    #: None: ``min(events, DEFAULT_NAIVE_EVENTS)``.
    naive_events: int | None = None
    outbox_records: int = DEFAULT_OUTBOX_RECORDS
    #: The large ERP file of the memory figure (0: skip).
    input_records: int = DEFAULT_INPUT_RECORDS
    #: The store of the console figure (0: skip).
    console_events: int = DEFAULT_CONSOLE_EVENTS
    seed: int = 1
    #: Trials of the bridge and its floors; the middle one by the headline ratio is reported.
    runs: int = DEFAULT_RUNS
    #: A PostgreSQL server (SQLAlchemy URL) to drain into as well, in a database of the
    #: bench's own; None: SQLite only.
    pg_url: str | None = None

    def __post_init__(self) -> None:
        if self.events < 1 or (self.naive_events is not None and self.naive_events < 1):
            raise ValueError("bench: --events and --naive-events must be at least 1")
        if self.runs < 1:
            raise ValueError("bench: --runs must be at least 1")
        if self.outbox_records < 0:
            raise ValueError("bench: --outbox-records must not be negative")
        if not (self.input_records == 0 or self.input_records >= 10):
            raise ValueError("bench: --input-records must be 0 (skip) or at least 10")

    @property
    def input_sizes(self) -> tuple[int, int] | None:
        """The small and the large ERP file of the memory figure, or None to skip it."""
        if not self.input_records:
            return None
        return min(SMALL_INPUT_RECORDS, self.input_records // 10), self.input_records

    @property
    def naive_count(self) -> int:
        return self.naive_events or min(self.events, DEFAULT_NAIVE_EVENTS)


def run_bench(options: BenchOptions) -> BenchReport:
    """Run every stage in order (the bridge first, so its peak memory is its own).

    The outbox push goes to the naive client's simulator once that one has drained.
    """
    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="centra-bridge-bench-") as folder:
        work = Path(folder)
        trial = _middle_trial(options, password, work)
        postgres = _run_postgres(options, password, work) if options.pg_url else None
        with SimulatorProcess(options.naive_count, options.seed, _USERNAME, password) as sim:
            naive = run_naive(sim.url, _USERNAME, password, work / "naive.db")
            outbox = (
                run_outbox(sim.url, _USERNAME, password, options.outbox_records, work / "outbox.db")
                if options.outbox_records
                else None
            )
        sizes = options.input_sizes
        inputs = [run_input(work, count) for count in sizes] if sizes else []
        console = run_console(work, options.console_events) if options.console_events else None
    return BenchReport(
        events=options.events,
        seed=options.seed,
        runs=options.runs,
        bridge=trial.bridge,
        floor=trial.floor,
        copies_floor=trial.copies_floor,
        postgres=postgres,
        naive=naive,
        outbox=outbox,
        inputs=inputs,
        console=console,
    )


@dataclass(frozen=True, slots=True)
class _Trial:
    """One measurement: the bridge's drain-events with both floors done beside it."""

    bridge: BridgeRun
    floor: FloorRun
    copies_floor: CopiesFloorRun


def _middle_trial(options: BenchOptions, password: str, work: Path) -> _Trial:
    """Of ``options.runs`` trials (each on a fresh simulator and fresh SQLite files), the
    middle one by its headline ratio (of two, the slower), with the memory of the first."""
    capture = work / "pages.bin"
    trials: list[_Trial] = []
    for number in range(options.runs):
        folder = work / f"trial-{number}"
        folder.mkdir()
        floors = Floors(capture, folder)
        with SimulatorProcess(options.events, options.seed, _USERNAME, password) as sim:
            bridge = run_bridge(
                sim.url,
                _USERNAME,
                password,
                f"sqlite:///{folder / 'bridge.db'}",
                capture,
                checkpoint_events=max(options.events // 10, 1),
                beside=floors,
            )
        trials.append(_Trial(bridge, *floors.finish()))
        shutil.rmtree(folder)  # a 100,000-event store is over a gigabyte
    by_ratio = sorted(trials, key=lambda trial: whole_ratio(trial.bridge, trial.copies_floor))
    first, middle = trials[0].bridge, by_ratio[len(trials) // 2]
    return replace(
        middle,
        bridge=replace(
            middle.bridge,
            checkpoint_events=first.checkpoint_events,
            rss_checkpoint_mb=first.rss_checkpoint_mb,
            rss_end_mb=first.rss_end_mb,
        ),
    )


def _run_postgres(options: BenchOptions, password: str, work: Path) -> BridgeRun:
    """The same events drained and handled into a fresh database on the given server."""
    assert options.pg_url is not None
    with (
        fresh_database(options.pg_url) as url,
        SimulatorProcess(options.events, options.seed, _USERNAME, password) as sim,
    ):
        return run_bridge(
            sim.url,
            _USERNAME,
            password,
            url,
            work / "pages-pg.bin",
            checkpoint_events=max(options.events // 10, 1),
        )

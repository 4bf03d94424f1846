"""The benchmark's answer: figures, the targets as ratios, and how both are printed."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bridge.bench.console import ConsoleRun
from bridge.bench.floor import CopiesFloorRun, FloorRun
from bridge.bench.input import InputRun
from bridge.bench.naive import NaiveRun
from bridge.bench.phases import BridgeRun

#: Target limits from the performance issue.
MAX_CPU_VS_FLOOR = 3.0
#: The whole drain-events (drain and handlers) against the floor that keeps the same copies.
MAX_WHOLE_VS_COPIES_FLOOR = 3.0
#: SQL statements per event, drain and handlers, on PostgreSQL (each is a round trip).
MAX_PG_STATEMENTS_PER_EVENT = 3.0
MIN_SPEEDUP_VS_NAIVE = 10.0
MAX_RSS_GROWTH_MB = 50.0
MAX_PUSH_VS_LXML = 3.0
#: Queueing an ERP file: peak memory from the small file to the large one.
MAX_INPUT_RSS_GROWTH_MB = 25.0
#: The web console's pages on a large store, slowest of a few fetches (seconds).
MAX_CONSOLE_OVERVIEW_S = 3.0
MAX_CONSOLE_LIST_S = 1.0
_PER = 1000


@dataclass(frozen=True, slots=True)
class Target:
    """One target: ``measured`` compared with ``limit`` as ``kind`` says (max, min, equal)."""

    name: str
    measured: float
    limit: float
    kind: str
    unit: str = ""

    @property
    def met(self) -> bool:
        if self.kind == "max":
            return self.measured <= self.limit
        if self.kind == "min":
            return self.measured >= self.limit
        return self.measured == self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": round(self.measured, 3),
            "limit": self.limit,
            "kind": self.kind,
            "unit": self.unit,
            "met": self.met,
        }

    def line(self) -> str:
        words = {"max": "at most", "min": "at least", "equal": "exactly"}[self.kind]
        return (
            f"  {'ok  ' if self.met else 'MISS'}  {self.name:<38} "
            f"{_num(self.measured)}{self.unit:<3} ({words} {_num(self.limit)}{self.unit})"
        )


@dataclass(frozen=True, slots=True)
class OutboxRun:
    """Pushing queued outbox records to Centra against building the same XML with lxml alone."""

    records: int
    calls: int
    #: Checking the ERP input and storing it in the outbox (before any push).
    queue_cpu_s: float
    #: ``Outbox.push_due``: read, translate, serialise, send, record the answers.
    push_cpu_s: float
    lxml_cpu_s: float


@dataclass
class BenchReport:
    """Everything one ``centra-bridge bench`` run measured."""

    events: int
    seed: int
    bridge: BridgeRun
    floor: FloorRun
    naive: NaiveRun
    copies_floor: CopiesFloorRun
    #: The same drain and handlers on PostgreSQL, when a server was given.
    postgres: BridgeRun | None = None
    outbox: OutboxRun | None = None
    #: ``push --queue-only FILE`` of a small and a large file, in that order (or none).
    inputs: list[InputRun] = field(default_factory=list)
    console: ConsoleRun | None = None
    #: Trials of the bridge and its floors; the figures are the middle one's.
    runs: int = 1
    machine: dict[str, Any] = field(default_factory=lambda: machine())

    def expected_calls(self) -> tuple[int, int]:
        """events_Get and events_Done for the run: one each per page, and the final empty get."""
        full, rest = divmod(self.bridge.events, 100)
        return full + 1, full + (1 if rest else 0)

    def targets(self) -> list[Target]:
        bridge, floor, naive = self.bridge, self.floor, self.naive
        gets, dones = self.expected_calls()
        found = [
            Target(
                "drain-events CPU per event vs floor with copies",
                whole_ratio(bridge, self.copies_floor),
                MAX_WHOLE_VS_COPIES_FLOOR,
                "max",
                "x",
            ),
            Target(
                "drain CPU per event vs floor",
                _ratio(bridge.cpu_s / max(bridge.events, 1), floor.cpu_s / max(floor.events, 1)),
                MAX_CPU_VS_FLOOR,
                "max",
                "x",
            ),
            Target(
                "drain throughput vs naive client",
                _ratio(_rate(bridge), naive.events_per_s),
                MIN_SPEEDUP_VS_NAIVE,
                "min",
                "x",
            ),
            Target(
                "events_Get calls (one per page)", bridge.calls.get("events_Get", 0), gets, "equal"
            ),
            Target(
                "events_Done calls (one per page)",
                bridge.calls.get("events_Done", 0),
                dones,
                "equal",
            ),
            Target(
                f"peak RSS growth from event {bridge.checkpoint_events:,} to the end",
                bridge.rss_growth_mb,
                MAX_RSS_GROWTH_MB,
                "max",
                "MB",
            ),
        ]
        if self.postgres is not None:
            found.append(
                Target(
                    "SQL statements per event on PostgreSQL",
                    self.postgres.statements_per_event,
                    MAX_PG_STATEMENTS_PER_EVENT,
                    "max",
                )
            )
        if self.outbox is not None:
            found.append(
                Target(
                    "outbox push CPU per record vs lxml",
                    _ratio(self.outbox.push_cpu_s, self.outbox.lxml_cpu_s),
                    MAX_PUSH_VS_LXML,
                    "max",
                    "x",
                )
            )
        if len(self.inputs) == 2:
            small, large = self.inputs
            found.append(
                Target(
                    f"push FILE peak RSS growth, {small.records:,} to {large.records:,} records",
                    max(large.peak_rss_mb - small.peak_rss_mb, 0.0),
                    MAX_INPUT_RSS_GROWTH_MB,
                    "max",
                    "MB",
                )
            )
        if self.console is not None:
            for name, seconds in self.console.seconds.items():
                limit = MAX_CONSOLE_OVERVIEW_S if name == "overview" else MAX_CONSOLE_LIST_S
                found.append(
                    Target(
                        f"web console {name}, {self.console.events:,} events",
                        seconds,
                        limit,
                        "max",
                        "s",
                    )
                )
        return found

    @property
    def ok(self) -> bool:
        return all(target.met for target in self.targets())

    def as_dict(self) -> dict[str, Any]:
        bridge = _bridge_dict(self.bridge)
        naive = asdict(self.naive) | {
            "events_per_s": round(self.naive.events_per_s, 1),
            "cpu_s_per_1000": _per(self.naive.cpu_s, self.naive.events),
        }
        floor = asdict(self.floor) | {"cpu_s_per_1000": _per(self.floor.cpu_s, self.floor.events)}
        return {
            "events": self.events,
            "seed": self.seed,
            "runs": self.runs,
            "machine": self.machine,
            "bridge": bridge,
            "floor": floor,
            "copies_floor": asdict(self.copies_floor)
            | {"cpu_s_per_1000": _per(self.copies_floor.cpu_s, self.copies_floor.events)},
            "postgres": _bridge_dict(self.postgres) if self.postgres is not None else None,
            "naive": naive,
            "outbox": asdict(self.outbox) if self.outbox is not None else None,
            "inputs": [asdict(run) for run in self.inputs],
            "console": asdict(self.console) if self.console is not None else None,
            "targets": [target.as_dict() for target in self.targets()],
            "ok": self.ok,
        }

    def render(self) -> str:
        return "\n".join([*self._figures(), "", "targets", *(t.line() for t in self.targets())])

    def _figures(self) -> list[str]:
        b, f, n, c = self.bridge, self.floor, self.naive, self.copies_floor
        lines = [
            f"centra-bridge bench: {self.events:,} events, seed {self.seed}, middle of "
            f"{self.runs} {'trial' if self.runs == 1 else 'trials'} (memory: the first); "
            f"{self.machine['cpu']}, {self.machine['cpus']} CPUs, Python {self.machine['python']}",
            _whole_line(b),
            f"        floor with copies {_per(c.cpu_s, c.events):.3f} CPU s per 1,000 events"
            f" (lxml parse + raw events + newest-wins upserts of {c.orders:,} order headers,"
            f" {c.order_lines:,} order lines, {c.customers:,} customers; one executemany per"
            " table per page)",
            *([_whole_line(self.postgres)] if self.postgres is not None else []),
            f"drain   {_rate(b):>9,.0f} events/s  {_per(b.cpu_s, b.events):>7.3f} CPU s per 1,000"
            f" events  peak RSS {b.rss_end_mb:.1f} MB ({b.rss_checkpoint_mb:.1f} MB after"
            f" {b.checkpoint_events:,} events)",
            "        CPU s per 1,000 events: "
            f"fetch+parse {_per(b.fetch_cpu_s, b.events):.3f}  "
            f"store {_per(b.store_cpu_s, b.events):.3f}  "
            f"acknowledge {_per(b.acknowledge_cpu_s, b.events):.3f}",
            f"handle  {_handled_rate(b):>9,.0f} events/s  {_per(b.handle_cpu_s, b.events):>7.3f}"
            " CPU s per 1,000 events  (built-in handlers keeping the ERP-facing copies,"
            " after the drain; the floor and the naive client have none)",
            f"        SOAP calls: events_Get {b.calls.get('events_Get', 0)} "
            f"({_per100(b.calls.get('events_Get', 0), b.events)} per 100 events), "
            f"events_Done {b.calls.get('events_Done', 0)} "
            f"({_per100(b.calls.get('events_Done', 0), b.events)} per 100 events)",
            f"floor   {'':>9}           {_per(f.cpu_s, f.events):>7.3f} CPU s per 1,000 events"
            "  (lxml parse + raw SQLite inserts, one transaction per page, same bytes)",
            f"naive   {n.events_per_s:>9,.0f} events/s  {_per(n.cpu_s, n.events):>7.3f} CPU s per"
            f" 1,000 events  (zeep objects, one events_Done and commit per event;"
            f" {n.events:,} events)",
        ]
        if self.outbox is not None:
            o = self.outbox
            lines.append(
                f"outbox  {o.records:,} records pushed in {o.calls} calls: "
                f"{_per(o.push_cpu_s, o.records):.3f} CPU s per 1,000 records (read, ids "
                f"translated, sent, answers recorded); lxml alone building the same XML "
                f"{_per(o.lxml_cpu_s, o.records):.3f}; queueing them "
                f"{_per(o.queue_cpu_s, o.records):.3f}"
            )
        lines += [
            f"input   push --queue-only of {run.records:,} records ({run.file_mb:.0f} MB): peak "
            f"RSS {run.peak_rss_mb:.1f} MB, {run.wall_s:.1f} s"
            for run in self.inputs
        ]
        if self.console is not None:
            pages = ", ".join(f"{name} {s:.2f} s" for name, s in self.console.seconds.items())
            lines.append(f"console {self.console.events:,} events, slowest of 3 fetches: {pages}")
        return lines


def whole_ratio(bridge: BridgeRun, copies_floor: CopiesFloorRun) -> float:
    """The headline: the whole drain-events' CPU per event against the floor with copies'."""
    return _ratio(
        bridge.whole_cpu_s / max(bridge.events, 1),
        copies_floor.cpu_s / max(copies_floor.events, 1),
    )


def _whole_line(run: BridgeRun) -> str:
    """The headline: what ``drain-events`` costs, drain and handlers together."""
    rate = run.events / run.whole_seconds if run.whole_seconds else 0.0
    return (
        f"drain-events on {run.database}: {rate:,.0f} events/s  "
        f"{_per(run.whole_cpu_s, run.events):.3f} CPU s per 1,000 events  "
        f"{run.statements_per_event:.2f} SQL statements per event "
        f"(drain {_per100(run.drain_statements, run.events)}, handlers "
        f"{_per100(run.handle_statements, run.events)} per 100 events)"
    )


def _bridge_dict(run: BridgeRun) -> dict[str, Any]:
    found = asdict(run)
    found.update(
        events_per_s=round(_rate(run), 1),
        store_cpu_s=round(run.store_cpu_s, 3),
        cpu_s_per_1000=_per(run.cpu_s, run.events),
        rss_growth_mb=round(run.rss_growth_mb, 1),
        whole_cpu_s_per_1000=_per(run.whole_cpu_s, run.events),
        whole_events_per_s=round(run.events / run.whole_seconds, 1) if run.whole_seconds else 0.0,
        statements_per_event=round(run.statements_per_event, 3),
    )
    return found


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def _rate(run: BridgeRun) -> float:
    return run.events / run.seconds if run.seconds else 0.0


def _handled_rate(run: BridgeRun) -> float:
    return run.events / run.handle_seconds if run.handle_seconds else 0.0


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def _per(seconds: float, count: int) -> float:
    return round(seconds / count * _PER, 4) if count else 0.0


def _per100(calls: int, events: int) -> str:
    return f"{calls / events * 100:.2f}" if events else "-"


def _num(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"

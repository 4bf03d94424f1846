"""The bridge's own drain-events, measured, with its yardsticks' work done beside it.

The bridge runs as in production (``App`` with its store, handlers and Centra client); a client
subclass writes each answer's bytes to a capture file, which the floors read back, so all work
on the very same response bytes. The floors' pages are done between the bridge's own pages and
batches (``Beside``), so that both are measured at the same speed of a machine whose speed
drifts with its neighbours' work; the CPU they take is not the bridge's.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from lxml import etree
from sqlalchemy import Engine, event

from bridge.app import App
from bridge.centra.port import EventPage, UpdateResult
from bridge.centra.soap.client import CentraClient
from bridge.config import CentraSettings, DatabaseSettings, Secret, Settings
from bridge.inbox.drain import PAGE_SIZE, DrainOptions, Inbox
from bridge.retry import RetryPolicy

_LENGTH = struct.Struct(">Q")
_SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def peak_rss_mb() -> float:
    """This process's peak resident set so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Spent:
    """CPU and wall time some work took."""

    cpu_s: float = 0.0
    seconds: float = 0.0

    @contextmanager
    def counting(self) -> Iterator[None]:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu_s += time.process_time() - cpu
            self.seconds += time.perf_counter() - wall


@dataclass
class BridgeRun:
    """What the bridge did and what it cost, CPU split by stage.

    The drain (fetch, parse, store, acknowledge) is the work the floor and the naive client
    do too, and is what they are compared with; the built-in handlers that then keep the
    ERP-facing copies run after it and are measured on their own.
    """

    events: int = 0
    pages: int = 0
    #: The drain: fetch, parse, store, acknowledge.
    seconds: float = 0.0
    cpu_s: float = 0.0
    fetch_cpu_s: float = 0.0
    acknowledge_cpu_s: float = 0.0
    #: The handlers, after the drain.
    handle_seconds: float = 0.0
    handle_cpu_s: float = 0.0
    #: SQL statements sent to the database (cursor executions; an executemany is one).
    drain_statements: int = 0
    handle_statements: int = 0
    #: The bench's own work during the drain and the handlers (capturing the pages, the
    #: floors beside), taken out of their figures.
    beside_drain: Spent = field(default_factory=Spent)
    beside_handle: Spent = field(default_factory=Spent)
    #: The database: "sqlite" or "postgresql".
    database: str = "sqlite"
    calls: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    #: Peak RSS once ``checkpoint_events`` had been stored, and at the end.
    checkpoint_events: int = 0
    rss_checkpoint_mb: float = 0.0
    rss_end_mb: float = 0.0

    @property
    def rss_growth_mb(self) -> float:
        """Peak RSS growth after the checkpoint; a peak never shrinks, so a reading a hair
        below the earlier one (the kernel's rounding) counts as no growth."""
        return max(self.rss_end_mb - self.rss_checkpoint_mb, 0.0)

    @property
    def whole_cpu_s(self) -> float:
        """What ``drain-events`` costs: the drain and the handlers."""
        return self.cpu_s + self.handle_cpu_s

    @property
    def whole_seconds(self) -> float:
        return self.seconds + self.handle_seconds

    @property
    def statements_per_event(self) -> float:
        statements = self.drain_statements + self.handle_statements
        return statements / self.events if self.events else 0.0

    @property
    def store_cpu_s(self) -> float:
        """Everything else in the drain: storing pages, the inbox's own bookkeeping."""
        return self.cpu_s - self.fetch_cpu_s - self.acknowledge_cpu_s


class Beside(Protocol):
    """Yardstick work done between the bridge's steps; its CPU is taken out of the bridge's."""

    def after_page(self, raw: bytes) -> None:
        """The drain has just fetched the page ``raw``."""

    def after_batch(self, handled: int) -> None:
        """The handlers have just finished a batch, ``handled`` events so far."""


class _Nothing:
    def after_page(self, raw: bytes) -> None:
        return

    def after_batch(self, handled: int) -> None:
        return


class _MeasuredClient(CentraClient):
    """The real client; also captures each page's bytes, hands it to the work beside, and
    notes CPU and memory per stage."""

    def __init__(
        self, settings: CentraSettings, capture: BinaryIO, run: BridgeRun, beside: Beside
    ) -> None:
        super().__init__(settings)
        self._capture = capture
        self._run = run
        self._beside = beside

    def get_events(
        self, event_type: str | None = None, markets: Sequence[str] | None = None
    ) -> EventPage:
        if not self._run.rss_checkpoint_mb and self._run.events >= self._run.checkpoint_events:
            self._run.rss_checkpoint_mb = peak_rss_mb()
        started = time.process_time()
        page = super().get_events(event_type, markets)
        self._run.fetch_cpu_s += time.process_time() - started
        self._run.events += len(page.events)
        self._run.pages += 1
        if page.events:
            with self._run.beside_drain.counting():
                self._capture.write(_LENGTH.pack(len(page.raw)))
                self._capture.write(page.raw)
                self._beside.after_page(page.raw)
        return page

    def acknowledge(self, event_ids: Sequence[str]) -> UpdateResult:
        started = time.process_time()
        try:
            return super().acknowledge(event_ids)
        finally:
            self._run.acknowledge_cpu_s += time.process_time() - started


class _StatementCount:
    """Counts the statements an engine sends (a SQLAlchemy event; the product never counts)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


def run_bridge(
    url: str,
    username: str,
    password: str,
    database_url: str,
    capture: Path,
    checkpoint_events: int,
    beside: Beside | None = None,
) -> BridgeRun:
    """Drain the simulator at ``url`` with the bridge into a fresh database, then handle;
    ``beside`` works after each page fetched and each batch handled."""
    beside = beside or _Nothing()
    settings = Settings(
        centra=CentraSettings(endpoint=url, username=username, password=Secret(password)),
        database=DatabaseSettings(url=database_url),
        source="<bench>",
    )
    run = BridgeRun(checkpoint_events=checkpoint_events)
    app = App.open(settings)
    run.database = app.store.engine.dialect.name
    statements = _StatementCount(app.store.engine)

    def after_batch(phase: str, done: int, total: int | None = None) -> None:
        with run.beside_handle.counting():
            beside.after_batch(done)

    try:
        with capture.open("wb") as sink:
            client = _MeasuredClient(settings.centra, sink, run, beside)
            inbox = Inbox(client, app.store, app.dispatcher, RetryPolicy.of(settings.centra))
            started, cpu_started = time.perf_counter(), time.process_time()
            inbox.drain(DrainOptions(handle=False))
            run.cpu_s = time.process_time() - cpu_started - run.beside_drain.cpu_s
            run.seconds = time.perf_counter() - started - run.beside_drain.seconds
            client.close()
        run.drain_statements = statements.count
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes = app.dispatcher.run_due(progress=after_batch)
        run.handle_cpu_s = time.process_time() - cpu_started - run.beside_handle.cpu_s
        run.handle_seconds = time.perf_counter() - started - run.beside_handle.seconds
        run.handle_statements = statements.count - run.drain_statements
    finally:
        statements.close()
        app.close()
    run.calls = dict(client.calls)
    run.outcomes = {key: value for key, value in outcomes.items() if value}
    run.rss_end_mb = peak_rss_mb()
    run.rss_checkpoint_mb = run.rss_checkpoint_mb or run.rss_end_mb
    return run


def captured_pages(capture: Path) -> Iterator[bytes]:
    with capture.open("rb") as source:
        while header := source.read(_LENGTH.size):
            yield source.read(_LENGTH.unpack(header)[0])


def page_events(envelope: etree._Element) -> list[etree._Element]:
    """``Envelope/Body/events_Get/events/event*`` (id and type are an event's first children)."""
    body = next(child for child in envelope if child.tag == _SOAP_BODY)
    events = body[0][0]
    return list(events)[:PAGE_SIZE]

"""Draining Centra's event queue: fetch a page, store it, acknowledge it, then handle it.

The order is the product's one invariant. ``events_Done`` is sent only after the transaction
that stored the page has committed, and before any handler runs, so a slow or failing handler
never holds Centra's queue back. A crash anywhere loses nothing: un-acknowledged events come
back from Centra and dedupe on their id; stored-but-unhandled ones are handled on the next run.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy.orm import Session

from bridge.centra.errors import CentraError
from bridge.centra.port import CentraPort, EventPage, UpdateResult
from bridge.clock import Progress, no_progress, utcnow
from bridge.errors import BridgeError, ExitCode
from bridge.inbox.dispatch import Dispatcher
from bridge.retry import RetryPolicy, call_centra
from bridge.store import Store, state
from bridge.store import events as repo
from bridge.store.lock import StoreLock, ensure_held

log = structlog.get_logger(__name__)
T = TypeVar("T")

#: Centra hands out at most this many events per events_Get.
PAGE_SIZE = 100
#: Events from earlier runs whose events_Done was never confirmed, re-sent after each page.
MAX_REACKNOWLEDGE = 500
STOPPED_BY_SHUTDOWN = "shutdown requested"
STOPPED_BY_LIMIT = "page limit reached:"


class QueueStalled(BridgeError):
    """Centra keeps returning events it was told are done; draining would never end."""

    exit_code = ExitCode.PARTIAL


@dataclass(frozen=True, slots=True)
class PageReport:
    """What one page did: handed to ``drain``'s ``on_page`` (metrics, watchdog) as it happens."""

    fetched: int
    new: int
    duplicates: int
    acknowledged: int
    request_id: str | None
    #: When the page was stored and acknowledged: the poll's success.
    done_at: datetime
    #: Events of the page (all acknowledged) by type.
    types: Counter[str] = field(default_factory=Counter)
    #: New events stored as superseded by a later one for the same object in the page.
    superseded: int = 0


@dataclass(slots=True)
class DrainReport:
    """What one drain did, for the summary line and ``--json``."""

    pages: int = 0
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    acknowledged: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Why the drain stopped early, or "" when the queue was drained.
    stopped: str = ""

    @property
    def complete(self) -> bool:
        """Drained, or stopped at the page limit it was asked for."""
        return not self.stopped or self.stopped.startswith(STOPPED_BY_LIMIT)

    def add_outcomes(self, counts: Counter[str]) -> None:
        self.outcomes.update(counts)

    def add_page(self, page: PageReport) -> None:
        self.pages += 1
        self.fetched += page.fetched
        self.new += page.new
        self.duplicates += page.duplicates
        self.acknowledged += page.acknowledged
        if page.superseded:
            self.outcomes["superseded"] += page.superseded

    def as_dict(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "fetched": self.fetched,
            "new": self.new,
            "duplicates": self.duplicates,
            "handled": self.outcomes["handled"],
            "ignored": self.outcomes["ignored"],
            "superseded": self.outcomes["superseded"],
            "failed": self.outcomes["failed"],
            "dead": self.outcomes["dead"],
            "acknowledged": self.acknowledged,
            "seconds": round(self.seconds, 3),
            "drained": not self.stopped,
            "stopped": self.stopped,
        }

    def summary(self) -> str:
        data = self.as_dict()
        head = "drained" if not self.stopped else f"stopped ({self.stopped})"
        keys = (
            "fetched",
            "new",
            "duplicates",
            "handled",
            "ignored",
            "superseded",
            "failed",
            "dead",
            "acknowledged",
            "pages",
            "seconds",
        )
        return head + ": " + " ".join(f"{key}={data[key]}" for key in keys)


@dataclass(frozen=True, slots=True)
class DrainOptions:
    event_type: str | None = None
    markets: Sequence[str] | None = None
    #: Stop after this many pages even if the queue is not empty (None: no limit).
    max_pages: int | None = None
    #: Run the handlers once the queue is drained (a scheduler may do that in its own job).
    handle: bool = True


@dataclass(slots=True)
class _Unrecorded:
    """What Centra confirmed and has not been committed yet; it goes into the next page's
    commit (or the drain's last one), so a page costs one commit."""

    #: Events whose acknowledgement Centra confirmed.
    confirmed: list[str] = field(default_factory=list)
    #: When the last page was stored and acknowledged: the poll succeeded then.
    succeeded_at: datetime | None = None
    #: The transport whose ids these are.
    transport: str = "soap"

    def write(self, session: Session) -> None:
        """Record both in the caller's transaction (a confirmation always comes with its
        page's success time)."""
        if self.succeeded_at is not None:
            repo.mark_acknowledged(session, self.confirmed, self.succeeded_at, self.transport)
            state.poll_succeeded(session, self.succeeded_at)

    def empty(self) -> bool:
        return not self.confirmed and self.succeeded_at is None

    def clear(self) -> None:
        self.confirmed.clear()
        self.succeeded_at = None


class Inbox:
    """Centra → store → acknowledge, page by page; then the handlers, from the store."""

    def __init__(
        self,
        client: CentraPort,
        store: Store,
        dispatcher: Dispatcher,
        retry: RetryPolicy,
        *,
        lock: StoreLock | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.store = store
        #: The poller's lock on the store, if this process holds it: no acknowledgement
        #: goes out once it is lost.
        self.lock = lock
        self.dispatcher = dispatcher
        #: For Centra calls that fail in a way worth repeating (see CentraError.retryable).
        self.retry = retry
        self._clock = clock
        self._rng = rng or random.Random()

    def drain(
        self,
        options: DrainOptions = DrainOptions(),
        stop: threading.Event | None = None,
        on_page: Callable[[PageReport], None] = lambda page: None,
        progress: Progress = no_progress,
    ) -> DrainReport:
        """Poll until Centra's queue is empty, a page limit is hit, or ``stop`` is set.

        Every page is stored and acknowledged before any handler runs, so a handler that
        hangs or kills the process never holds Centra's queue back. CentraError propagates;
        handler failures do not. The report is logged however the drain ends (at debug when
        nothing came: an idle poll is not news). Every log line of the drain carries one
        ``poll_id``: the caller's, or a new one.
        """
        poll_id = structlog.contextvars.get_contextvars().get("poll_id") or uuid.uuid4().hex[:12]
        with structlog.contextvars.bound_contextvars(poll_id=poll_id):
            return self._drain(options, stop, on_page, progress)

    def _drain(
        self,
        options: DrainOptions,
        stop: threading.Event | None,
        on_page: Callable[[PageReport], None],
        progress: Progress,
    ) -> DrainReport:
        report = DrainReport()
        started = time.monotonic()

        def page_done(page: PageReport) -> None:
            on_page(page)
            progress("fetching events", report.fetched)

        try:
            self._fetch_pages(options, report, stop, page_done)
            if options.handle and report.stopped != STOPPED_BY_SHUTDOWN:
                report.add_outcomes(self.dispatcher.run_due(stop=stop, progress=progress))
                if stop is not None and stop.is_set():
                    report.stopped = STOPPED_BY_SHUTDOWN
        except BaseException as exc:
            report.stopped = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            report.seconds = time.monotonic() - started
            idle = not report.fetched and not report.outcomes and not report.stopped
            (log.debug if idle else log.info)("drain finished", **report.as_dict())
        return report

    def _fetch_pages(
        self,
        options: DrainOptions,
        report: DrainReport,
        stop: threading.Event | None,
        on_page: Callable[[PageReport], None],
    ) -> None:
        previous: set[str] = set()
        unrecorded = _Unrecorded()
        try:
            while True:
                if stop is not None and stop.is_set():
                    report.stopped = STOPPED_BY_SHUTDOWN
                    return
                if options.max_pages is not None and report.pages >= options.max_pages:
                    report.stopped = f"{STOPPED_BY_LIMIT} {options.max_pages}"
                    return
                page, page_ids = self._drain_page(options, stop, unrecorded)
                report.add_page(page)
                on_page(page)
                if len(page_ids) < PAGE_SIZE:
                    return
                if set(page_ids) == previous:
                    raise QueueStalled(
                        "Centra returned the same page again after confirming events_Done "
                        f"for it (events {page_ids[0]}..{page_ids[-1]}); its queue is not moving"
                    )
                previous = set(page_ids)
        finally:
            self._record(unrecorded)

    def _drain_page(
        self, options: DrainOptions, stop: threading.Event | None, unrecorded: _Unrecorded
    ) -> tuple[PageReport, list[str]]:
        """One events_Get → store (committed) → events_Done; the page's report and event ids.

        Log lines carry, once the page is in, Centra's request id.
        """
        page = self._call(lambda: self.client.get_events(options.event_type, options.markets), stop)
        with structlog.contextvars.bound_contextvars(request_id=page.request_id):
            return self._keep(page, stop, unrecorded)

    def _keep(
        self, page: EventPage, stop: threading.Event | None, unrecorded: _Unrecorded
    ) -> tuple[PageReport, list[str]]:
        """Store the page, then acknowledge it (and anything acknowledged before in vain).

        What Centra confirmed for the previous page is recorded in the same commit as this
        page: one commit per page. Should the process die before that commit, those events
        are merely acknowledged once more on the next run, which Centra ignores.
        """
        for reason in page.unreadable:
            log.error("event cannot be stored or acknowledged", reason=reason)
        now = self._clock()
        with self.store.transaction() as session:
            unrecorded.write(session)
            stored = repo.store_page(session, page, page.operation, now)
            older = repo.unacknowledged_ids(session, MAX_REACKNOWLEDGE, page.transport)
        unrecorded.clear()
        unrecorded.transport = page.transport
        # Only after the commit above: everything Centra sent is stored now.
        page_ids = list(dict.fromkeys(event.event_id for event in page.events))
        if page_ids:
            self._acknowledge(page_ids, page.request_id, stop)
            unrecorded.confirmed.extend(page_ids)
        done_at = unrecorded.succeeded_at = self._clock()
        in_page = {repo.stored_event_id(event_id) for event_id in page_ids}
        unrecorded.confirmed.extend(
            self._reacknowledge([i for i in older if i not in in_page], stop)
        )
        report = PageReport(
            fetched=len(page.events),
            new=len(stored.new_seqs),
            duplicates=stored.duplicates,
            acknowledged=len(page_ids),
            request_id=page.request_id,
            done_at=done_at,
            types=Counter(event.type for event in page.events),
            superseded=stored.superseded,
        )
        (log.info if page.events else log.debug)(
            "page stored and acknowledged" if page.events else "queue empty",
            fetched=report.fetched,
            new=report.new,
            duplicates=report.duplicates,
        )
        return report, [event.event_id for event in page.events]

    def _record(self, unrecorded: _Unrecorded) -> None:
        """Record the last confirmations and the poll's success once the drain ends, however
        it ends.

        A failure here is only logged: those events are acknowledged again on the next run.
        """
        if unrecorded.empty():
            return
        try:
            with self.store.transaction() as session:
                unrecorded.write(session)
        except Exception as exc:
            log.warning(
                "recording the last page's acknowledgement failed; "
                "its events will be acknowledged again",
                count=len(unrecorded.confirmed),
                error=f"{type(exc).__name__}: {exc}",
            )

    def _call(self, call: Callable[[], T], stop: threading.Event | None) -> T:
        return call_centra(call, self.retry, stop=stop, rng=self._rng)

    def _acknowledge(
        self, event_ids: list[str], request_id: str | None, stop: threading.Event | None
    ) -> None:

        def acknowledge() -> UpdateResult:
            # Checked before every attempt: a retry may come long after the commit.
            self._ensure_store()
            return self.client.acknowledge(event_ids)

        # Acknowledging is idempotent at Centra (done ids are ignored), so repeating is safe.
        result = self._call(acknowledge, stop)
        if not result.success:
            raise CentraError(
                f"events_Done refused {len(event_ids)} events: {'; '.join(result.errors)}",
                request_id=result.request_id or request_id,
            )

    def _ensure_store(self) -> None:
        """StoreGone or LockLost unless what was committed is in the store this process
        opened, under its lock: an acknowledgement of events in a vanished file loses them."""
        self.store.ensure_in_place()
        if self.lock is not None:
            ensure_held(self.lock)

    def _reacknowledge(self, event_ids: list[str], stop: threading.Event | None) -> list[str]:
        """Events stored earlier whose events_Done was never confirmed (a crash, a lost answer).

        Sent in a call of their own, whose refusal is only logged: Centra's answer to ids it
        already forgot is not documented, and it must never hold back the page in hand.
        Returns the ids Centra confirmed.
        """
        if not event_ids:
            return []
        try:
            self._acknowledge(event_ids, None, stop)
        except CentraError as exc:
            log.warning(
                "re-acknowledging older events failed",
                count=len(event_ids),
                error=str(exc),
                request_id=exc.request_id,
            )
            return []
        return event_ids

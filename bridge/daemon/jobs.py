"""The daemon's jobs (poll, retry, housekeeping, health), thin wrappers over inbox and store.

Each job catches everything it can meet: a job never takes the daemon down, it logs, counts
and leaves the next tick to try again. Poll and retry never dispatch at the same time, so one
event is never handled by two threads at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bridge.app import App
from bridge.centra.errors import CentraAuthError, CentraError, CentraUnavailable
from bridge.clock import utcnow
from bridge.config import ScheduleSettings
from bridge.daemon.health import Health
from bridge.daemon.metrics import Metrics, StoreSnapshot
from bridge.inbox.drain import DrainOptions, PageReport, QueueStalled
from bridge.retry import asked_for_s, backoff_s
from bridge.store import events as events_repo
from bridge.store import outbox as outbox_repo
from bridge.store import retention, state
from bridge.store.engine import StoreGone
from bridge.store.lock import LockLost, StoreLock
from bridge.store.models import EventStatus

log = structlog.get_logger(__name__)

#: Events handled per retry batch; the stop flag is read between batches.
RETRY_BATCH = 50
#: Rows deleted per housekeeping transaction, so writers are never held up for long.
PRUNE_BATCH = 1000
#: Staged outbox records older than this were left by a push that died reading its file.
STAGED_KEPT = timedelta(days=1)


class Jobs:
    """The work one configuration does; the daemon schedules these methods."""

    def __init__(
        self,
        app: App,
        schedule: ScheduleSettings,
        stop: threading.Event,
        metrics: Metrics,
        health: Health,
        *,
        lock: StoreLock | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        #: The poller's lock this process holds; the drain acknowledges nothing once it is lost.
        self.lock = lock
        self.schedule = schedule
        self.stop = stop
        self.metrics = metrics
        self.health = health
        self._clock = clock
        self._dispatching = threading.Lock()
        self._failures = 0
        self._resume_at = 0.0

    # -- poll --------------------------------------------------------------------------------

    def poll(self) -> None:
        """Drain Centra's queue page by page; on failure, back off without sleeping."""
        if self.health.monotonic() < self._resume_at:
            self.health.progressed()  # waiting out a back-off is the loop working as meant
            return
        with structlog.contextvars.bound_contextvars(job="poll", poll_id=uuid.uuid4().hex[:12]):
            started = time.monotonic()
            try:
                pages = self._drain()
            except Exception as exc:  # a poll never takes the daemon down
                self._poll_failed(exc)
            else:
                self._failures = 0
                if pages:
                    self.metrics.poll_duration.observe(time.monotonic() - started)
                    self.metrics.polls.labels(result="ok").inc()
            finally:
                self.health.progressed()

    def _drain(self) -> int:
        with self._dispatching:
            report = self.app.inbox(self.lock).drain(
                DrainOptions(), self.stop, on_page=self._page_done
            )
        self._count_outcomes(report.outcomes)
        return report.pages

    def _page_done(self, page: PageReport) -> None:
        """Each stored page is progress: the watchdog is fed even while a backlog drains.

        The drain records the poll's success in the store itself, with its next commit.
        """
        for event_type, count in page.types.items():
            self.metrics.events_fetched.labels(type=event_type).inc(count)
            self.metrics.events_acknowledged.labels(type=event_type).inc(count)
        self.metrics.last_poll_success.set(page.done_at.timestamp())
        self.health.succeeded(page.done_at)

    def _count_outcomes(self, outcomes: Mapping[str, int]) -> None:
        for status, count in outcomes.items():
            self.metrics.handler_outcomes.labels(status=status).inc(count)

    def _poll_failed(self, exc: Exception) -> None:
        if isinstance(exc, StoreGone | LockLost):
            log.error("poll stopped: the store is not the one this process opened", error=str(exc))
            self.health.store_lost(str(exc))
            return
        self._failures += 1
        result, delay_s = self._classify(exc)
        self._resume_at = self.health.monotonic() + delay_s
        request_id = getattr(exc, "request_id", None)
        fields = {
            "error": str(exc),
            "request_id": request_id,
            "failures": self._failures,
            "next_try_in_s": round(delay_s, 1),
        }
        if isinstance(exc, CentraUnavailable):
            log.warning("poll failed: Centra unreachable", **fields)
        elif isinstance(exc, CentraError | QueueStalled | SQLAlchemyError):
            log.error(f"poll failed: {result}", **fields)
        else:
            log.error("poll failed unexpectedly", **fields, exc_info=exc)
        self.metrics.polls.labels(result=result).inc()
        text = f"{type(exc).__name__}: {exc}"
        if request_id:
            text += f" (X-Centra-Request-ID {request_id})"
        self.health.failed_with(text)
        try:
            with self.app.store.transaction() as session:
                state.poll_failed(session, self._clock(), text)
        except SQLAlchemyError as db_exc:
            log.warning("could not record the failed poll", error=str(db_exc))

    def _classify(self, exc: Exception) -> tuple[str, float]:
        """The metric label for a failure, and how long the poll waits before trying again."""
        if isinstance(exc, CentraAuthError):
            return "login refused", self.schedule.auth_retry_s
        if isinstance(exc, QueueStalled):
            return "queue stalled", self.schedule.auth_retry_s
        backoff = backoff_s(self._failures, self.schedule.poll_s, self.schedule.backoff_max_s)
        if isinstance(exc, CentraUnavailable):
            asked_s = min(asked_for_s(exc), self.schedule.backoff_max_s)
            return "unavailable", max(backoff, asked_s)
        if isinstance(exc, CentraError):
            return "centra error", backoff
        if isinstance(exc, SQLAlchemyError):
            return "database error", backoff
        return "internal error", backoff

    # -- push --------------------------------------------------------------------------------

    def push(self) -> None:
        """Pick up the drop directory and send due ERP updates; Centra's trouble waits a tick."""
        with structlog.contextvars.bound_contextvars(job="push"):
            try:
                report = self.app.outbox().push_job(self.stop)
            except CentraAuthError as exc:
                log.error(
                    "push failed: Centra refused the login",
                    error=str(exc),
                    request_id=exc.request_id,
                )
                self.metrics.pushes.labels(result="login refused").inc()
                return
            except Exception as exc:  # a push never takes the daemon down
                log.error("push failed", error=str(exc), exc_info=exc)
                self.metrics.pushes.labels(result="error").inc()
                return
            for result in ("sent", "failed", "dead"):
                self.metrics.outbox_results.labels(result=result).inc(getattr(report, result))
            self.metrics.pushes.labels(result="ok" if report.ok else "partial").inc()
            if report.queued or report.sent or report.failed or report.dead:
                log.info("push finished", **report.as_dict())

    # -- retry -------------------------------------------------------------------------------

    def retry(self) -> None:
        """Handle failed events whose back-off has passed, a batch at a time."""
        with structlog.contextvars.bound_contextvars(job="retry"), self._dispatching:
            try:
                while not self.stop.is_set():
                    counts = self.app.dispatcher.run_due(limit=RETRY_BATCH)
                    self._count_outcomes(counts)
                    if sum(counts.values()) < RETRY_BATCH:
                        break
            except Exception as exc:
                log.error("retry failed", error=str(exc), exc_info=exc)

    # -- housekeeping ------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Delete finished events and sent ERP updates past the retention period, then
        answers nothing refers to."""
        with structlog.contextvars.bound_contextvars(job="housekeeping"):
            before = self._clock() - timedelta(days=self.schedule.retention_days)
            try:
                events = self._prune(lambda s: retention.prune_events(s, before, PRUNE_BATCH))
                answers = self._prune(lambda s: retention.prune_responses(s, PRUNE_BATCH))
                updates = self._prune(lambda s: retention.prune_outbox(s, before, PRUNE_BATCH))
                staged_before = self._clock() - STAGED_KEPT
                updates += self._prune(
                    lambda s: retention.prune_staged(s, staged_before, PRUNE_BATCH)
                )
            except Exception as exc:
                log.error("housekeeping failed", error=str(exc), exc_info=exc)
                return
            self.metrics.events_pruned.inc(events)
            if events or answers or updates:
                log.info(
                    "housekeeping pruned",
                    events=events,
                    responses=answers,
                    outbox_records=updates,
                    finished_before=before.isoformat(),
                )

    def _prune(self, step: Callable[..., int]) -> int:
        total = 0
        while not self.stop.is_set():
            with self.app.store.transaction() as session:
                deleted = step(session)
            total += deleted
            if deleted < PRUNE_BATCH:
                break
        return total

    # -- health ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read backlog and counts from the store for STATUS= and the metrics gauges."""
        try:
            with self.app.store.reading() as session:
                snapshot = StoreSnapshot(
                    events=events_repo.count_by_type_and_status(session),
                    unacknowledged=events_repo.count_unacknowledged(session),
                    outbox=outbox_repo.count_by_status(session),
                    oldest_failed_event_at=events_repo.oldest_failed_received_at(session),
                    oldest_queued_outbox_at=outbox_repo.oldest_queued_created_at(session),
                    listeners=_listeners(state.listeners(session)),
                    token_expires_at=_token_expires_at(self.app.settings.centra.token_expires),
                )
        except SQLAlchemyError as exc:
            log.warning("could not read the store's health", error=str(exc))
            return
        self.metrics.store.update(snapshot)
        totals: Counter[str] = Counter()
        for (_, status), count in snapshot.events.items():
            totals[status] += count
        self.health.counted(
            backlog=totals[EventStatus.NEW] + totals[EventStatus.FAILED],
            failed=totals[EventStatus.FAILED],
            dead=totals[EventStatus.DEAD],
        )


def _listeners(listening: state.Listeners | None) -> tuple[str, ...]:
    return tuple(sorted(listening.change_types)) if listening else ()


def _token_expires_at(day: date | None) -> datetime | None:
    """Counted to the start of that day, UTC: AMS shows no zone, and early beats late."""
    return None if day is None else datetime.combine(day, time_of_day.min, UTC)

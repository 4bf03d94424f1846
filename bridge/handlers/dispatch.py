"""Runs stored events through their handlers, each in its own transaction.

A handler's failure is recorded on its event (attempts, error, next attempt) and never
stops the other events; the acknowledgement to Centra never waits on any of this.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import structlog

from bridge.handlers.base import EventRecord, Outcome, PermanentError, utcnow
from bridge.handlers.registry import Registry
from bridge.retry import RetryPolicy
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.models import EventStatus, StoredEvent

log = structlog.get_logger(__name__)

#: Stored error texts are cut here; the full traceback is in the log.
MAX_ERROR_CHARS = 2000
_RUNNABLE = (EventStatus.NEW, EventStatus.FAILED)


class Dispatcher:
    """Hands events to handlers and records what came of it."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        policy: RetryPolicy,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.registry = registry
        self.policy = policy
        self._rng = rng or random.Random()
        self._clock = clock

    def run(self, seqs: Iterable[int], *, replay: bool = False) -> Counter[str]:
        """Handle these events in order; returns how many ended in each status.

        Outside a replay only ``new`` and ``failed`` events run, so a crash and a second
        drain never handle an event twice. A replay runs any event again, whatever its status.
        """
        counts: Counter[str] = Counter()
        for seq in seqs:
            status = self.handle(seq, replay=replay)
            if status is not None:
                counts[status] += 1
        return counts

    def run_due(self, limit: int | None = None) -> Counter[str]:
        """Handle new events and failed ones whose back-off has passed."""
        with self.store.transaction() as session:
            seqs = repo.due_seqs(session, self._clock(), limit)
        return self.run(seqs)

    def handle(self, seq: int, *, replay: bool = False) -> str | None:
        """Run one event's handler; None if it was not runnable (already done elsewhere)."""
        try:
            with self.store.transaction() as session:
                row = session.get_one(StoredEvent, seq)
                if not replay and row.status not in _RUNNABLE:
                    return None
                record = EventRecord.from_stored(row)
                with structlog.contextvars.bound_contextvars(
                    event_id=record.event_id, event_type=record.type, object_id=record.object_id
                ):
                    outcome = self.registry.for_type(record.type)(session, record)
                    status = str(outcome or Outcome.HANDLED)
                    repo.mark_outcome(row, status, self._clock())
                    log.debug("event handled", status=status)
                return status
        except Exception as exc:
            return self._record_failure(seq, exc)

    def _record_failure(self, seq: int, exc: Exception) -> str:
        now = self._clock()
        with self.store.transaction() as session:
            attempts = session.get_one(StoredEvent, seq).attempts + 1
            give_up = isinstance(exc, PermanentError) or self.policy.exhausted(attempts)
            retry_at = (
                None
                if give_up
                else now + timedelta(seconds=self.policy.delay_s(attempts, self._rng))
            )
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            row = repo.mark_failed(session, seq, error, retry_at, now)
            log.warning(
                "handler failed",
                event_id=row.event_id,
                event_type=row.type,
                object_id=row.entry,
                attempts=row.attempts,
                status=row.status,
                retry_at=retry_at.isoformat() if retry_at else None,
                exc_info=exc,
            )
            return row.status

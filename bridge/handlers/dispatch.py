"""Runs stored events through their handlers, each in its own transaction.

A handler's failure is recorded on its event (attempts, error, next attempt) and never
stops the other events; the acknowledgement to Centra never waits on any of this.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import Enum

import structlog
from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome, PermanentError, utcnow
from bridge.handlers.registry import Registry
from bridge.retry import RetryPolicy
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.models import PENDING, EventStatus, StoredEvent

log = structlog.get_logger(__name__)

#: Stored error texts are cut here; the full traceback is in the log.
MAX_ERROR_CHARS = 2000


class _Claim(Enum):
    RUN = "run"
    #: Not runnable (handled meanwhile, or gone).
    SKIP = "skip"
    #: Its attempts ran out without a recorded failure; parked as dead.
    DEAD = "dead"


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

        Each event's attempt is counted before its handler starts, in the transaction that
        recorded the previous event, so a handler that kills the process uses up its own
        attempts (and ends ``dead``) without costing its neighbours anything.
        """
        order = list(seqs)
        counts: Counter[str] = Counter()
        if not order:
            return counts
        with self.store.transaction() as session:
            claim = self._claim(session, order[0], replay)
        for index, seq in enumerate(order):
            following = order[index + 1] if index + 1 < len(order) else None
            if claim is _Claim.RUN:
                status, claim = self._handle(seq, following, replay)
                counts[status] += 1
                continue
            if claim is _Claim.DEAD:
                counts[EventStatus.DEAD.value] += 1
            if following is not None:
                with self.store.transaction() as session:
                    claim = self._claim(session, following, replay)
        return counts

    def run_due(self, limit: int | None = None) -> Counter[str]:
        """Handle new events and failed ones whose back-off has passed."""
        with self.store.transaction() as session:
            seqs = repo.due_seqs(session, self._clock(), limit)
        return self.run(seqs)

    def _claim(self, session: Session, seq: int | None, replay: bool) -> _Claim:
        """Count an attempt on ``seq`` before its handler starts, or say why it must not run.

        An event whose attempts are used up without a recorded failure made the process die
        every time it was handled: it is parked as dead instead of being run again.
        """
        if seq is None:
            return _Claim.SKIP
        row = session.get(StoredEvent, seq, with_for_update=True)
        if row is None or (not replay and row.status not in PENDING):
            return _Claim.SKIP
        if not replay and self.policy.exhausted(row.attempts):
            repo.mark_failed(
                row,
                f"handler did not finish in {row.attempts} attempts "
                "(the process died or was killed while handling it)",
                None,
                self._clock(),
            )
            log.error("event parked as dead", event_id=row.event_id, attempts=row.attempts)
            return _Claim.DEAD
        row.attempts += 1
        return _Claim.RUN

    def _handle(self, seq: int, following: int | None, replay: bool) -> tuple[str, _Claim]:
        """Run one claimed event's handler and claim the next event in the same commit.

        Returns the event's new status and the next event's claim.
        """
        try:
            with self.store.transaction() as session:
                row = session.get_one(StoredEvent, seq, with_for_update=True)
                record = EventRecord.from_stored(row)
                with structlog.contextvars.bound_contextvars(
                    event_id=record.event_id, event_type=record.type, object_id=record.object_id
                ):
                    outcome = self.registry.for_type(record.type)(session, record)
                    status = Outcome(outcome or Outcome.HANDLED).value
                    repo.mark_outcome(row, status, self._clock())
                    log.debug("event handled", status=status)
                return status, self._claim(session, following, replay)
        except Exception as exc:
            return self._record_failure(seq, exc, following, replay)

    def _record_failure(
        self, seq: int, exc: Exception, following: int | None, replay: bool
    ) -> tuple[str, _Claim]:
        now = self._clock()
        with self.store.transaction() as session:
            row = session.get_one(StoredEvent, seq, with_for_update=True)
            give_up = isinstance(exc, PermanentError) or self.policy.exhausted(row.attempts)
            retry_at = (
                None
                if give_up
                else now + timedelta(seconds=self.policy.delay_s(row.attempts, self._rng))
            )
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
            repo.mark_failed(row, error, retry_at, now)
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
            return row.status, self._claim(session, following, replay)

"""Runs stored events through their handlers and records what came of each.

Events are handled a batch at a time: one commit counts the batch's attempts, one more
records every outcome. The batch's events whose handler takes batches (``BatchHandler``,
as the built-ins do) are handled together, type by type, inside one savepoint; should
anything in it fail, the savepoint is rolled back and those events are handled again one at
a time. Every other handler runs one event at a time inside a savepoint of its own, so a
failure rolls back that event's writes only and never stops the others. The acknowledgement to
Centra never waits on any of this.

An attempt is counted before the handler starts. If the process dies inside a batch, its
events are left counted but unfinished; the next run handles those one at a time, so the
event that kills the process uses up its own attempts (and ends ``dead``) while its
neighbours lose one attempt at most.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.orm import Session

from bridge.centra.errors import CentraProtocolError
from bridge.centra.port import EventCodec
from bridge.clock import Progress, no_progress, utcnow
from bridge.handlers.base import BatchHandler, EventRecord, Outcome, PermanentError
from bridge.handlers.registry import Registry, ignore
from bridge.retry import MAX_ERROR_CHARS, RetryPolicy
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.models import PENDING, EventStatus

log = structlog.get_logger(__name__)

#: Events handled in one transaction: two commits and a dozen statements a batch, so a larger
#: batch costs less per event; a failed batch is redone one event at a time, and a shutdown
#: waits for the batch in flight (a tenth of a second at this size).
BATCH_SIZE = 200


class Dispatcher:
    """Hands events to handlers and records what came of it."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        policy: RetryPolicy,
        codec: EventCodec,
        *,
        zone: tzinfo = UTC,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.store = store
        self.registry = registry
        self.policy = policy
        #: How stored events are read into payloads (the configured transport's).
        self.codec = codec
        #: The merchant's time zone, for event dates sent without an offset.
        self.zone = zone
        self._rng = rng or random.Random()
        self._clock = clock
        self._batch_size = batch_size

    def run(
        self,
        seqs: Iterable[int],
        *,
        replay: bool = False,
        stop: threading.Event | None = None,
        progress: Progress = no_progress,
    ) -> Counter[str]:
        """Handle these events in order; returns how many ended in each status.

        Outside a replay only ``new`` and ``failed`` events run, so a crash and a second
        drain never handle an event twice. A replay runs any event again, whatever its status.
        ``stop`` is read between batches: a shutdown waits for the batch in flight only, and
        the rest stays due for the next run. ``progress`` hears after each batch.
        """
        order = list(seqs)
        counts: Counter[str] = Counter()
        phase = "replaying events" if replay else "handling events"
        for start in range(0, len(order), self._batch_size):
            if stop is not None and stop.is_set():
                break
            counts.update(self._run_batch(order[start : start + self._batch_size], replay))
            progress(phase, min(start + self._batch_size, len(order)), len(order))
        return counts

    def run_due(
        self,
        limit: int | None = None,
        stop: threading.Event | None = None,
        progress: Progress = no_progress,
    ) -> Counter[str]:
        """Handle new events and failed ones whose back-off has passed."""
        with self.store.reading() as session:
            seqs = repo.due_seqs(session, self._clock(), limit)
        return self.run(seqs, stop=stop, progress=progress)

    def _run_batch(self, seqs: Sequence[int], replay: bool) -> Counter[str]:
        counts: Counter[str] = Counter()
        with self.store.transaction() as session:
            repo.take_dispatch_turn(session)
            rows = repo.lock_events(session, seqs, whole=False)
            if len(rows) > 1 and any(_unfinished(row) for row in rows):
                claimed = None
            else:
                claimed = self._claim(session, rows, replay, counts)
        if claimed is None:
            # A run died inside this batch: find the culprit by handling one at a time.
            for seq in seqs:
                counts.update(self._run_batch([seq], replay))
            return counts
        if claimed:
            with self.store.transaction() as session:
                repo.take_dispatch_turn(session)
                endings = self._handle_all(session, repo.lock_events(session, claimed))
                repo.record_endings(session, endings, self._clock())
            counts.update(ending.status for ending in endings)
        return counts

    def _claim(
        self, session: Session, rows: Sequence[Row[Any]], replay: bool, counts: Counter[str]
    ) -> list[int]:
        """Count an attempt on each runnable event before its handler starts.

        An event whose attempts are used up without a recorded failure made the process die
        every time it was handled: it is parked as dead instead of being run again.
        """
        runnable = [row for row in rows if replay or row.status in PENDING]
        exhausted = [] if replay else [r for r in runnable if self.policy.exhausted(r.attempts)]
        for row in exhausted:
            log.error("event parked as dead", event_id=row.event_id, attempts=row.attempts)
        repo.record_endings(
            session,
            [
                repo.Ending(
                    row.seq,
                    EventStatus.DEAD,
                    f"handler did not finish in {row.attempts} "
                    "attempts (the process died or was killed while handling it)",
                )
                for row in exhausted
            ],
            self._clock(),
        )
        if exhausted:
            counts[EventStatus.DEAD.value] += len(exhausted)
        dead = {row.seq for row in exhausted}
        claimed = [row.seq for row in runnable if row.seq not in dead]
        repo.count_attempts(session, claimed)
        return claimed

    def _handle_all(self, session: Session, rows: Sequence[Row[Any]]) -> list[repo.Ending]:
        """Read the claimed events' payloads, handle them, and say how each ended.

        Stored XML that cannot be read is a permanent failure of that event alone; the
        payload of an event no handler takes is not read at all.
        """
        records: dict[int, EventRecord] = {}
        endings: dict[int, repo.Ending] = {}
        for row in rows:
            if self.registry.for_type(row.type) is ignore:
                endings[row.seq] = repo.Ending(row.seq, _kept(row.status, Outcome.IGNORED.value))
                continue
            try:
                records[row.seq] = EventRecord.from_stored(
                    row, self.codec.decode(row.xml), self.zone
                )
            except CentraProtocolError as exc:
                with structlog.contextvars.bound_contextvars(
                    event_id=row.event_id, event_type=row.type
                ):
                    endings[row.seq] = self._failure(
                        row.seq, row.attempts, PermanentError(str(exc))
                    )
        outcomes = self._handle_batches(session, list(records.values()))
        for row in rows:
            if row.seq in endings:
                continue
            outcome = outcomes.get(row.seq)
            if outcome is None:
                endings[row.seq] = self._handle(session, row, records[row.seq])
            else:
                endings[row.seq] = repo.Ending(row.seq, _kept(row.status, outcome))
        return [endings[row.seq] for row in rows]

    def _handle_batches(self, session: Session, records: Sequence[EventRecord]) -> dict[int, str]:
        """Hand each type's events to its batch handler, all in one savepoint; the status
        each event ends in, or nothing when the batch failed (it is then handled event by
        event) or no handler took batches."""
        by_type: dict[str, list[EventRecord]] = {}
        for record in records:
            by_type.setdefault(record.type, []).append(record)
        batched = {
            event_type: (handler, events)
            for event_type, events in by_type.items()
            if isinstance(handler := self.registry.for_type(event_type), BatchHandler)
        }
        if not batched:
            return {}
        statuses: dict[int, str] = {}
        try:
            with session.begin_nested():
                for handler, events in batched.values():
                    outcomes = handler.handle_batch(session, events)
                    for event, outcome in zip(events, outcomes, strict=True):
                        statuses[event.seq] = Outcome(outcome or Outcome.HANDLED).value
        except Exception as exc:  # any failure: each event then fails or succeeds alone
            log.info("batch handled one event at a time", reason=f"{type(exc).__name__}: {exc}")
            return {}
        log.debug("batch handled", events=len(statuses))
        if logging.getLogger(__name__).isEnabledFor(logging.DEBUG):  # one line per event
            for record in records:
                if record.seq in statuses:
                    log.debug(
                        "event handled",
                        event_id=record.event_id,
                        event_type=record.type,
                        object_id=record.object_id,
                        status=statuses[record.seq],
                    )
        return statuses

    def _handle(self, session: Session, row: Row[Any], record: EventRecord) -> repo.Ending:
        """Run one event's handler in a savepoint of its own."""
        with structlog.contextvars.bound_contextvars(
            event_id=record.event_id, event_type=record.type, object_id=record.object_id
        ):
            try:
                with session.begin_nested():
                    outcome = self.registry.for_type(record.type)(session, record)
                    status = Outcome(outcome or Outcome.HANDLED).value
            except Exception as exc:
                return self._failure(record.seq, record.attempts, exc)
            status = _kept(row.status, status)
            log.debug("event handled", status=status)
            return repo.Ending(record.seq, status)

    def _failure(self, seq: int, attempts: int, exc: Exception) -> repo.Ending:
        give_up = isinstance(exc, PermanentError) or self.policy.exhausted(attempts)
        retry_at = (
            None
            if give_up
            else self._clock() + timedelta(seconds=self.policy.delay_s(attempts, self._rng))
        )
        status = EventStatus.DEAD if give_up else EventStatus.FAILED
        # Dead needs a person (journalctl -p err shows it); failed is retried by itself.
        (log.error if give_up else log.warning)(
            "handler failed",
            attempts=attempts,
            status=status.value,
            retry_at=retry_at.isoformat() if retry_at else None,
            exc_info=exc,
        )
        return repo.Ending(
            seq, status.value, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS], retry_at
        )


def _kept(before: str, status: str) -> str:
    """The status a run leaves: a replay of a delivered event that finds a newer one in
    changes nothing, so the event stays ``handled`` (it was delivered) and keeps its
    history instead of turning ``superseded``."""
    if before == EventStatus.HANDLED and status == EventStatus.SUPERSEDED:
        return EventStatus.HANDLED.value
    return status


def _unfinished(row: Row[Any]) -> bool:
    """Claimed by an earlier run that never recorded how the attempt ended: it died."""
    return row.status in PENDING and row.attempts > 0 and row.handled_at is None

"""ERP updates to Centra: stored first, ids translated, sent in batches, every answer recorded.

Every record is committed to the ``outbox`` table before anything is sent, and stays
``queued`` or ``failed`` until Centra's answer for it is committed, so a crash at any moment
loses nothing; a record whose answer was lost is sent again, which Centra's upserts absorb.

How one answer maps to the records of a batch (Centra answers one ``result`` per call):

* ``success=true``: every record of the batch is ``sent``; the call's notices are kept on each.
* ``success=false``, or a Fault or unreadable answer: a batch of several is sent again one
  record per call, so each record gets its own answer; a single record is ``failed`` with
  Centra's messages and tried again after a back-off; after ``max_attempts`` it is ``dead``.
* Centra unreachable (``CentraUnavailable``): the batch waits for the next push without using
  up an attempt (it is not the records' fault), and the push stops.
* A refused login raises ``CentraAuthError`` and leaves the records as they were.

Records of one object go out in the order they were queued: a record waits while an older one
for the same object is pending, so a retry never overwrites a newer update.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from bridge.centra.errors import CentraAuthError, CentraError, CentraUnavailable
from bridge.centra.port import CentraPort, EventCodec, UpdateResult
from bridge.clock import Progress, no_progress, utcnow
from bridge.config import OutboxSettings
from bridge.outbox.dropdir import DropDirectory, DropReport
from bridge.outbox.entities import MAPPED_TYPES, batch_size
from bridge.outbox.id_rules import IdConflict, KnownIds
from bridge.outbox.idmap import known_ids, register_sent
from bridge.outbox.prices import product_ids, with_centra_products
from bridge.retry import MAX_ERROR_CHARS, RetryPolicy, call_centra
from bridge.store import Store
from bridge.store import outbox as repo
from bridge.store.models import OutboxRecord, OutboxStatus

log = structlog.get_logger(__name__)

#: Batches read from the outbox in one transaction; each is recorded as soon as Centra
#: answers it, so echo suppression knows it was sent before its echo can arrive.
READ_BATCHES = 4


@dataclass(frozen=True, slots=True)
class Prepared:
    """One outbox record ready to go: its payload carries the id Centra knows."""

    outbox_id: int
    entity_type: str
    erp_id: str
    centra_id: str
    #: False when the ERP id went unmapped and is sent as-is (registered once Centra accepts).
    mapped: bool
    payload: dict[str, Any]


@dataclass(slots=True)
class PushReport:
    """What one push did, for the summary line, ``--json`` and the exit code."""

    #: Drop-directory files picked up and the records queued from them.
    files: int = 0
    queued: int = 0
    failed_files: list[str] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    dead: int = 0
    calls: int = 0
    #: Why the push stopped before everything due was sent ("" when it was not).
    stopped: str = ""
    failed_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "queued": self.queued,
            "failed_files": self.failed_files,
            "sent": self.sent,
            "failed": self.failed,
            "dead": self.dead,
            "calls": self.calls,
            "stopped": self.stopped,
        }

    def summary(self) -> str:
        head = "pushed" if not self.stopped else f"stopped ({self.stopped})"
        picked = f"files={self.files} " if self.files else ""
        rejected = f" rejected={','.join(self.failed_files)}" if self.failed_files else ""
        return (
            f"{head}: {picked}queued={self.queued} sent={self.sent} failed={self.failed} "
            f"dead={self.dead} calls={self.calls}{rejected}"
        )

    @property
    def ok(self) -> bool:
        return not (self.failed or self.dead or self.stopped or self.failed_files)


def prepare(row: repo.DueRecord, known: Mapping[str, KnownIds]) -> Prepared:
    """The record with its ids translated through the id map (IdConflict if one cannot be):
    a customer's or product's own id, a pricelist's products; an order (known by Centra's
    id) and a pricelist's own id go as they are."""
    if row.entity_type not in MAPPED_TYPES:
        fields = dict(row.fields)
        if row.entity_type == "pricelist":
            fields = with_centra_products(fields, known["product"])
        return Prepared(row.id, row.entity_type, row.erp_id, row.erp_id, True, fields)
    centra_id, mapped = known[row.entity_type].translate(row.erp_id)
    return Prepared(
        row.id, row.entity_type, row.erp_id, centra_id, mapped, {**row.fields, "id": centra_id}
    )


def _ids_to_translate(due: Iterable[repo.DueRecord]) -> dict[str, list[str]]:
    """The ERP ids the id map is asked about, by entity type, for these records."""
    ids: dict[str, list[str]] = {}
    for row in due:
        if row.entity_type in MAPPED_TYPES:
            ids.setdefault(row.entity_type, []).append(row.erp_id)
        elif row.entity_type == "pricelist":
            ids.setdefault("product", []).extend(product_ids(row.fields))
    return ids


class Outbox:
    """Sends due outbox records to Centra and records each answer."""

    def __init__(
        self,
        store: Store,
        client: CentraPort,
        codec: EventCodec,
        settings: OutboxSettings,
        call_retry: RetryPolicy,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        progress: Progress = no_progress,
    ) -> None:
        self.store = store
        self.client = client
        #: Hears after each call how many records have had an answer.
        self.progress = progress
        self.codec = codec
        self.settings = settings
        #: For one call while Centra is unreachable ([centra] max_attempts…); ``policy`` below
        #: spaces out a record's attempts across pushes.
        self.call_retry = call_retry
        self.policy = RetryPolicy.of(settings)
        self._rng = rng or random.Random()
        self._clock = clock

    def push_job(self, stop: threading.Event | None = None) -> PushReport:
        """One tick of the daemon: pick up the drop directory (if set), then push what is due."""
        picked = self.pick_up(stop)
        report = self.push_due(stop)
        report.files, report.queued = picked.files, picked.records
        report.failed_files = picked.failed_files
        return report

    def pick_up(self, stop: threading.Event | None = None) -> DropReport:
        """Queue the drop directory's files (if one is set); never raises, never sends."""
        if self.settings.directory is None:
            return DropReport()
        try:
            drop = DropDirectory(
                self.settings.directory,
                self.store,
                self.codec,
                settle_s=self.settings.settle_s,
                progress=self.progress,
            )
            return drop.pick_up(stop)
        except Exception as exc:  # the drop directory never holds back what is queued
            log.error(
                "drop directory not picked up",
                directory=str(self.settings.directory),
                error=f"{type(exc).__name__}: {exc}",
            )
            return DropReport()

    def push_due(self, stop: threading.Event | None = None) -> PushReport:
        """Send every due record, one batch per call, until none is due or ``stop`` is set.

        Records that fail now come due again after their back-off, so one run ends. Due
        records are read ``READ_BATCHES`` batches at a time.
        """
        report = PushReport()
        while not self._stopping(report, stop):
            due, batches = self._next_batches(report)
            if not due:
                break
            for batch in batches:
                if self._stopping(report, stop):
                    break
                self._send(batch, report, stop)
                self.progress("sending ERP updates", report.sent + report.failed + report.dead)
        if report.calls or report.dead:
            log.info("outbox pushed", **report.as_dict())
        return report

    @staticmethod
    def _stopping(report: PushReport, stop: threading.Event | None) -> bool:
        """Whether the push stops here: it was stopped, or a shutdown was asked for."""
        if not report.stopped and stop is not None and stop.is_set():
            report.stopped = "shutdown requested"
        return bool(report.stopped)

    def _next_batches(self, report: PushReport) -> tuple[int, list[list[Prepared]]]:
        """How many records are due, and those that can go in batches of one entity type (one
        call each); a record whose id cannot be translated goes dead on the spot."""
        size = self.settings.batch_size
        by_type: dict[str, list[Prepared]] = {}
        with self.store.transaction() as session:
            due = repo.due_records(session, self._clock(), size * READ_BATCHES)
            known = {
                entity_type: known_ids(session, entity_type, ids)
                for entity_type, ids in _ids_to_translate(due).items()
            }
            for row in due:
                try:
                    prepared = prepare(row, known)
                except IdConflict as exc:
                    repo.mark_failed(session.get_one(OutboxRecord, row.id), str(exc), None)
                    report.dead += 1
                    log.warning("outbox record refused", outbox_id=row.id, error=str(exc))
                    continue
                by_type.setdefault(row.entity_type, []).append(prepared)
        return len(due), [
            items[start : start + batch_size(entity_type, size)]
            for entity_type, items in by_type.items()
            for start in range(0, len(items), batch_size(entity_type, size))
        ]

    def _send(
        self, batch: list[Prepared], report: PushReport, stop: threading.Event | None
    ) -> None:
        entity_type = batch[0].entity_type
        report.calls += 1
        payloads = [item.payload for item in batch]
        try:
            result = call_centra(
                lambda: self.client.send_updates(entity_type, payloads),
                self.call_retry,
                stop=stop,
                rng=self._rng,
            )
        except CentraAuthError:
            raise
        except CentraUnavailable as exc:
            # Not the records' fault: they wait for the next push without using up attempts.
            self._record_failures(batch, report, f"Centra unreachable: {exc}", counts=False)
            report.stopped = "Centra unreachable"
            return
        except (CentraError, ValueError) as exc:
            result = UpdateResult(
                success=False,
                errors=[f"{type(exc).__name__}: {exc}"],
                request_id=getattr(exc, "request_id", None),
            )
        if result.success:
            self._record_sent(batch, result, report)
        elif len(batch) > 1:
            log.info(
                "batch refused; sending its records one by one",
                records=len(batch),
                request_id=result.request_id,
            )
            for item in batch:
                if self._stopping(report, stop):
                    break
                self._send([item], report, stop)
        else:
            self._record_failures(
                batch, report, "; ".join(result.errors) or "success=false", result
            )

    def _record_sent(self, batch: list[Prepared], result: UpdateResult, report: PushReport) -> None:
        """Mark the batch sent and register the ERP ids that went to Centra as-is."""
        now = self._clock()
        with self.store.transaction() as session:
            repo.mark_sent(
                session,
                [(item.outbox_id, item.erp_id, item.centra_id) for item in batch],
                result,
                now,
            )
            register_sent(
                session,
                batch[0].entity_type,
                [item.erp_id for item in batch if not item.mapped],
                now,
            )
        report.sent += len(batch)

    def _record_failures(
        self,
        batch: list[Prepared],
        report: PushReport,
        error: str,
        result: UpdateResult | None = None,
        *,
        counts: bool = True,
    ) -> None:
        """Record a failed send; ``counts`` False keeps the attempt count (Centra was down)."""
        now = self._clock()
        with self.store.transaction() as session:
            for item in batch:
                row = session.get_one(OutboxRecord, item.outbox_id)
                attempts = row.attempts + 1 if counts else max(row.attempts, 1)
                give_up = counts and self.policy.exhausted(attempts)
                retry_at = (
                    None
                    if give_up
                    else now + timedelta(seconds=self.policy.delay_s(attempts, self._rng))
                )
                repo.mark_failed(
                    row,
                    error[:MAX_ERROR_CHARS],
                    retry_at,
                    counts=counts,
                    errors=result.errors if result else (),
                    notices=result.notices if result else (),
                    request_id=result.request_id if result else None,
                    centra_id=item.centra_id,
                )
                if row.status == OutboxStatus.DEAD:
                    report.dead += 1
                else:
                    report.failed += 1
                report.failed_ids.append(item.outbox_id)
                log.warning(
                    "outbox record failed",
                    outbox_id=item.outbox_id,
                    entity_type=item.entity_type,
                    erp_id=item.erp_id,
                    status=row.status,
                    attempts=row.attempts,
                    error=row.last_error,
                )

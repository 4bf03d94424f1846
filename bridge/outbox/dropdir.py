"""The drop directory: ERP files of JSON Lines picked up atomically, queued once, never lost.

Layout under ``[outbox] directory``::

    *.jsonl        files the ERP drops (write under another name, then rename to *.jsonl)
    work/          files being read: each is first renamed here, under a unique name
    processed/     files whose records are all queued
    failed/        files with a bad line, each with ``<name>.error`` beside it

The rename into ``work/`` is the pick-up, so a file is never read while the ERP still writes
it. An ERP that writes ``*.jsonl`` in place anyway is met twice: a file is left alone until
it has been unchanged for ``settle`` seconds, and one that changes while it is read is
rejected with the rename rule in its ``.error``, never half queued. One pick-up runs at a
time per directory (a lock file, ``work/.lock``), so the daemon and a ``push`` started by
hand never share a file. The records of a file are queued all or nothing under
the file's unique work name (``bridge.outbox.staging``, a chunk at a time, so a file of any
size fits the memory); a crash before the move to ``processed/`` finds that name on the next
run and only finishes the move, so no file is queued twice.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bridge.centra.port import EventCodec
from bridge.clock import Progress, no_progress, utcnow
from bridge.handlers.sinks.directory import write_atomically
from bridge.outbox.input import Checker, ErpRecord, InputError, NotRegularFile, open_regular
from bridge.outbox.orders import order_book
from bridge.outbox.staging import queue_input
from bridge.store import Store
from bridge.store import outbox as repo
from bridge.store.lock import FileLock

log = structlog.get_logger(__name__)

PATTERN = "*.jsonl"


@dataclass(slots=True)
class DropReport:
    """What one pick-up did."""

    files: int = 0
    records: int = 0
    failed_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "records": self.records, "failed_files": self.failed_files}


class DropDirectory:
    """Picks up the ERP's files from ``root`` and queues their records."""

    def __init__(
        self,
        root: Path,
        store: Store,
        codec: EventCodec,
        *,
        settle_s: float,
        clock: Callable[[], float] = time.time,
        progress: Progress = no_progress,
    ) -> None:
        self.root = root
        self.store = store
        self.codec = codec
        self.settle_s = settle_s
        self._clock = clock
        self.progress = progress
        self.work, self.processed, self.failed = (
            root / "work",
            root / "processed",
            root / "failed",
        )

    def pick_up(self, stop: threading.Event | None = None) -> DropReport:
        """Finish files a crash left in ``work/``, then take every ``*.jsonl`` in name order.

        When another pick-up holds the directory, this one does nothing.
        """
        for folder in (self.work, self.processed, self.failed):
            folder.mkdir(parents=True, exist_ok=True)
        report = DropReport()
        lock = FileLock(self.work / ".lock")
        if lock.acquire():
            try:
                self._pick_up(report, stop)
            finally:
                lock.release()
        return report

    def _pick_up(self, report: DropReport, stop: threading.Event | None) -> None:
        for path in sorted(self.work.glob(PATTERN)):
            if not self._process(path, report, stop):
                return
        for path in sorted(self.root.glob(PATTERN)):
            if stop is not None and stop.is_set():
                return
            if not self._settled(path, stop):
                continue
            claimed = self._claim(path)
            if claimed is not None and not self._process(claimed, report, stop):
                return

    def _settled(self, path: Path, stop: threading.Event | None) -> bool:
        """Whether ``path`` has been unchanged for ``settle_s``: a younger file is waited
        for once, and left for a later pick-up if it changed meanwhile (still being written)."""
        try:
            before = path.lstat().st_mtime
            young = self.settle_s - (self._clock() - before)
            if young <= 0:
                return True
            if (stop or threading.Event()).wait(young):
                return False
            if path.lstat().st_mtime == before:
                return True
        except FileNotFoundError:
            return False
        log.info("drop file still being written; left for a later pick-up", file=path.name)
        return False

    def _claim(self, path: Path) -> Path | None:
        """Rename into ``work/`` under a unique name; None if another process took it first."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        target = self.work / f"{stamp}-{uuid.uuid4().hex[:8]}-{path.name}"
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        return target

    def _process(self, path: Path, report: DropReport, stop: threading.Event | None) -> bool:
        """Queue one file of ``work/`` and move it on; False when ``stop`` came first (the
        file stays in ``work/`` and is read again on the next pick-up)."""
        key = f"dropdir:{path.name}"
        with self.store.transaction() as session:
            done = repo.input_queued(session, key)
            if not done:
                repo.drop_staged(session, key)  # what a crash left of an earlier reading
        if done:
            report.files += 1
            path.rename(self.processed / path.name)
            return True
        try:
            with open_regular(path, follow_symlinks=False) as file:
                checker = Checker(self.codec, order_book(self.store))
                records = _unchanged(file, checker, checker.lines(file, path.name), path.name)
                queued = queue_input(self.store, checker, records, key, stop, self.progress)
        except SQLAlchemyError:
            raise  # the store is down: the file stays in work/ and is tried again
        except Exception as exc:  # whatever is wrong with the file, it must not block others
            report.files += 1
            self._reject(path, exc, report)
            return True
        if queued is None:
            log.info("drop file left in work/ for the next pick-up", file=path.name)
            return False
        report.files += 1
        path.rename(self.processed / path.name)
        report.records += queued
        log.info("drop file queued", file=path.name, records=queued)
        return True

    def _reject(self, path: Path, exc: Exception, report: DropReport) -> None:
        if isinstance(exc, InputError):
            message = str(exc)
        elif isinstance(exc, NotRegularFile):
            message = f"{path.name}: {exc}"
        else:
            message = f"{path.name}: cannot be queued: {type(exc).__name__}: {exc}"
        write_atomically(self.failed / f"{path.name}.error", (message + "\n").encode("utf-8"))
        path.rename(self.failed / path.name)
        report.failed_files.append(path.name)
        log.warning(
            "drop file rejected; nothing of it queued",
            file=path.name,
            problems=message.count("\n") + 1,
        )


def _unchanged(
    file: BinaryIO, checker: Checker, records: Iterable[ErpRecord], source: str
) -> Iterator[ErpRecord]:
    """``records``, then a problem if the file changed while it was read: the ERP wrote it
    in place, and what was read may be half of it."""
    before = os.fstat(file.fileno())
    yield from records
    after = os.fstat(file.fileno())
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        checker.add(
            source,
            0,
            "-",
            "changed while being read: write the file under another name, then rename it "
            "to *.jsonl",
        )

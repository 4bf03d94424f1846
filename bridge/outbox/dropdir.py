"""The drop directory: ERP files of JSON Lines picked up atomically, queued once, never lost.

Layout under ``[outbox] directory``::

    *.jsonl        files the ERP drops (write under another name, then rename to *.jsonl)
    work/          files being read: each is first renamed here, under a unique name
    processed/     files whose records are all queued
    failed/        files with a bad line, each with ``<name>.error`` beside it

The rename into ``work/`` is the pick-up, so a file is never read while the ERP still writes
it; one pick-up runs at a time per directory (a lock file, ``work/.lock``), so the daemon and a
``push`` started by hand never share a file. The records of a file are queued in one
transaction that also records the file's unique work name; a crash before the move to
``processed/`` finds that name on the next run and only finishes the move, so no file is queued
twice.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bridge.centra.port import EventCodec
from bridge.clock import utcnow
from bridge.handlers.sinks.directory import write_atomically
from bridge.outbox.input import InputError, NotRegularFile, parse_lines, read_regular_text
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

    def __init__(self, root: Path, store: Store, codec: EventCodec) -> None:
        self.root = root
        self.store = store
        self.codec = codec
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
            self._process(path, report)
        for path in sorted(self.root.glob(PATTERN)):
            if stop is not None and stop.is_set():
                break
            claimed = self._claim(path)
            if claimed is not None:
                self._process(claimed, report)

    def _claim(self, path: Path) -> Path | None:
        """Rename into ``work/`` under a unique name; None if another process took it first."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        target = self.work / f"{stamp}-{uuid.uuid4().hex[:8]}-{path.name}"
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        return target

    def _process(self, path: Path, report: DropReport) -> None:
        key = f"dropdir:{path.name}"
        report.files += 1
        with self.store.transaction() as session:
            done = repo.input_queued(session, key)
        if done:
            path.rename(self.processed / path.name)
            return
        try:
            text = read_regular_text(path, follow_symlinks=False)
            records = parse_lines(text, path.name, self.codec)
            with self.store.transaction() as session:
                ids = repo.add_records(session, records, utcnow(), key)
        except SQLAlchemyError:
            raise  # the store is down: the file stays in work/ and is tried again
        except Exception as exc:  # whatever is wrong with the file, it must not block others
            self._reject(path, exc, report)
            return
        path.rename(self.processed / path.name)
        report.records += len(ids)
        log.info("drop file queued", file=path.name, records=len(ids))

    def _reject(self, path: Path, exc: Exception, report: DropReport) -> None:
        if isinstance(exc, InputError):
            message = str(exc)
        elif isinstance(exc, NotRegularFile):
            message = f"{path.name}: {exc}"
        elif isinstance(exc, UnicodeDecodeError):
            message = f"{path.name}: not UTF-8 text (byte {exc.start})"
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

"""ERP updates into the outbox (the Python API, files, the drop directory), and ``push``.

An input is queued completely or not at all (files through ``bridge.outbox.staging``, read a
line at a time); what is queued is committed before anything is sent.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bridge.centra.port import EventCodec
from bridge.clock import utcnow
from bridge.outbox.dryrun import render_requests
from bridge.outbox.input import Checker, ErpRecord, check_records, read_files
from bridge.outbox.orders import order_book
from bridge.outbox.push import Outbox, PushReport
from bridge.outbox.staging import queue_input
from bridge.store import Store
from bridge.store import outbox as repo
from bridge.store.models import OutboxStatus


def queue_updates(
    store: Store,
    codec: EventCodec,
    records: Iterable[Mapping[str, Any]],
    *,
    source: str = "api",
) -> list[int]:
    """The Python API: check ``records`` (dicts shaped like one JSON line each) and queue them.

    All or nothing: ``bridge.InputError`` lists every bad record and nothing is queued.
    Returns the outbox ids; the daemon's push job (or ``centra-bridge push``) sends them.
    """
    return queue_checked(store, check_records(records, source, codec, order_book(store)))


def queue_checked(store: Store, records: list[ErpRecord]) -> list[int]:
    """Queue records already checked, in one transaction."""
    with store.transaction() as session:
        return repo.add_records(session, records, utcnow())


def push_files(
    outbox: Outbox,
    files: Sequence[Path],
    *,
    queue_only: bool = False,
    retry: bool = False,
    stop: threading.Event | None = None,
) -> PushReport:
    """Queue the files' records (all of them, or nothing), then send everything due.

    Without files, the drop directory is picked up instead. ``retry`` makes failed and dead
    records due again first. Raises ``bridge.InputError`` with nothing queued.
    """
    queued = 0
    if files:
        checker = Checker(outbox.codec, order_book(outbox.store))
        key = f"push:{uuid.uuid4().hex}"
        records = checker.files(files)
        taken = queue_input(outbox.store, checker, records, key, stop, outbox.progress)
        if taken is None:
            return PushReport(stopped="shutdown requested while reading; nothing queued")
        queued = taken
    if retry:
        with outbox.store.transaction() as session:
            repo.requeue(session, (OutboxStatus.FAILED, OutboxStatus.DEAD), utcnow())
    if queue_only:
        if files:
            return PushReport(queued=queued)
        picked = outbox.pick_up(stop)
        return PushReport(
            files=picked.files, queued=picked.records, failed_files=picked.failed_files
        )
    report = outbox.push_due(stop) if files else outbox.push_job(stop)
    report.queued += queued
    return report


def dry_run(outbox: Outbox, files: Sequence[Path]) -> list[str]:
    """The requests pushing these files would send (secrets masked); nothing is stored."""
    records = read_files(files, outbox.codec, order_book(outbox.store))
    return render_requests(outbox.codec, outbox.store, records, outbox.settings.batch_size)

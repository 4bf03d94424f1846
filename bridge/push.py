"""``centra-bridge push``: files → outbox → Centra, as one library call per mode."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bridge.app import App
from bridge.centra.schema import load_schema
from bridge.dryrun import render_requests
from bridge.erp_input import read_files
from bridge.outbox import PushReport, queue_checked
from bridge.store import outbox as repo
from bridge.store.models import OutboxStatus


def push(
    app: App,
    files: Sequence[Path],
    *,
    queue_only: bool = False,
    retry: bool = False,
    stop: threading.Event | None = None,
) -> PushReport:
    """Queue the files' records (all checked first), then send everything due.

    Without files, the drop directory is picked up instead. ``retry`` makes failed and dead
    records due again first. Raises ``bridge.erp_input.InputError`` with nothing queued.
    """
    schema = load_schema(app.client.flavor.wsdl_path)
    records = read_files(files, schema)
    queued = queue_checked(app.store, records) if records else []
    if retry:
        with app.store.transaction() as session:
            repo.requeue(session, (OutboxStatus.FAILED, OutboxStatus.DEAD), datetime.now(UTC))
    if queue_only:
        if files:
            return PushReport(queued=len(queued))
        picked = app.outbox().pick_up(stop)
        return PushReport(
            files=picked.files, queued=picked.records, failed_files=picked.failed_files
        )
    outbox = app.outbox()
    report = outbox.push_due(stop) if files else outbox.push_job(stop)
    report.queued += len(queued)
    return report


def dry_run(app: App, files: Sequence[Path]) -> list[str]:
    """The SOAP requests pushing these files would send (password masked); nothing is stored."""
    schema = load_schema(app.client.flavor.wsdl_path)
    records = read_files(files, schema)
    return render_requests(app.settings.centra, app.store, records, app.settings.outbox.batch_size)

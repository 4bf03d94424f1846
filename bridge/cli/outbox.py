"""The ``outbox`` commands: the ERP updates with Centra's answers (``list``, ``show``), and
what a person does about stuck ones (``retry``, ``skip``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bridge.app import App
from bridge.cli.common import (
    answer_masked,
    clip,
    epilog,
    load_settings,
    more_line,
    non_negative_int,
    positive_int,
    reading,
    service_note,
    timestamp,
    when,
    who,
)
from bridge.cli.lookup import record_lines
from bridge.clock import utcnow
from bridge.errors import ExitCode
from bridge.outbox import lookup, manual
from bridge.outbox.entities import ENTITY_TYPES
from bridge.store.lookups import Listing
from bridge.store.models import OutboxStatus
from bridge.store.outbox import RETRIABLE


def add_commands(commands: Any) -> None:
    """Register ``outbox list|show|retry|skip``."""
    codes = [ExitCode.DATABASE]
    outbox = commands.add_parser(
        "outbox",
        help="look up ERP updates; retry or skip them",
        epilog=epilog("centra-bridge outbox list --status dead", codes=codes),
    )
    actions = outbox.add_subparsers(
        dest="outbox_command", metavar="ACTION", required=True, help="what to do"
    )
    listing = actions.add_parser(
        "list",
        help="outbox records, newest first; reads only",
        epilog=epilog("centra-bridge outbox list --status failed --type order", codes=codes),
    )
    listing.add_argument(
        "--status",
        action="append",
        default=[],
        choices=[s.value for s in OutboxStatus],
        help="only records in this status (repeatable)",
    )
    listing.add_argument(
        "--type",
        action="append",
        default=[],
        choices=ENTITY_TYPES,
        help="only records of this entity type (repeatable)",
    )
    listing.add_argument("--since", type=timestamp, help="queued at or after (ISO date/time)")
    listing.add_argument(
        "--limit",
        type=positive_int,
        default=lookup.LIST_LIMIT,
        metavar="N",
        help=f"at most N rows (default {lookup.LIST_LIMIT})",
    )
    listing.add_argument(
        "--offset", type=non_negative_int, default=0, metavar="N", help="skip the first N rows"
    )
    listing.add_argument("--json", action="store_true", help="answer with JSON")
    listing.set_defaults(run=_list)

    showing = actions.add_parser(
        "show",
        help="one record, its fields and Centra's answer; reads only",
        epilog=epilog("centra-bridge outbox show 42", codes=codes),
    )
    showing.add_argument("record_id", type=int, metavar="ID", help="the outbox record's id")
    showing.add_argument("--json", action="store_true", help="answer with JSON")
    showing.set_defaults(run=_show)

    retrying = actions.add_parser(
        "retry",
        help="make records due again, attempts reset (the service sends them)",
        epilog=epilog(
            "centra-bridge outbox retry 42",
            "centra-bridge outbox retry --status dead",
            codes=codes,
        ),
    )
    retrying.add_argument(
        "record_ids", nargs="*", type=int, metavar="ID", help="the records (or give --status)"
    )
    retrying.add_argument(
        "--status", choices=[str(s) for s in RETRIABLE], help="every record in it"
    )
    retrying.add_argument("--json", action="store_true", help="answer with JSON")
    retrying.set_defaults(run=_retry)

    skipping = actions.add_parser(
        "skip",
        help="set records aside by hand, with the reason",
        epilog=epilog('centra-bridge outbox skip 42 --reason "sent by hand"', codes=codes),
    )
    skipping.add_argument("record_ids", nargs="+", type=int, metavar="ID", help="the records")
    skipping.add_argument("--reason", required=True, help="why (kept with each record)")
    skipping.add_argument("--json", action="store_true", help="answer with JSON")
    skipping.set_defaults(run=_skip)


def _list(args: argparse.Namespace) -> int:
    query = lookup.RecordQuery(
        statuses=tuple(args.status),
        types=tuple(args.type),
        since=args.since,
        limit=args.limit,
        offset=args.offset,
    )
    with reading(args) as app:
        page = lookup.list_records(app.store, query)
        answer_masked(args, app.settings, page.as_dict("records"), render_list(page))
    return ExitCode.OK


def _show(args: argparse.Namespace) -> int:
    with reading(args) as app:
        settings = app.settings
        detail = lookup.record_detail(app.store, args.record_id)
    fields = json.dumps(detail.fields, indent=2, sort_keys=True, ensure_ascii=False)
    text = "\n".join(
        [
            *record_lines(detail.record),
            f"    source: {detail.record.source or '-'}",
            f"    centra request id: {detail.record.request_id or '-'}",
            "",
            fields,
        ]
    )
    answer_masked(args, settings, detail.as_dict(), text)
    return ExitCode.OK


def _retry(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with App.open(settings) as app:
        done = manual.retry_records(
            app.store, who(), utcnow(), record_ids=args.record_ids, status=args.status
        )
    note = service_note(settings.database.url, "sends them") if done.due else ""
    text = f"{done.due} record{'s' * (done.due != 1)} due again, attempts reset"
    if done.kept:
        text += f"; {done.kept} kept as they are: a newer record for the same object exists"
    if note:
        text += f"; {note}"
    answer_masked(
        args, settings, {"retried": done.due, "kept": done.kept, "service": note or None}, text
    )
    return ExitCode.OK


def _skip(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with App.open(settings) as app:
        changed = manual.skip_records(app.store, args.record_ids, args.reason, who(), utcnow())
    text = f"{changed} record{'s' * (changed != 1)} skipped: never sent"
    answer_masked(args, settings, {"skipped": changed}, text)
    return ExitCode.OK


def render_list(page: Listing) -> str:
    """Records as a table, one a line, Centra's first error cut to fit."""
    if not page.rows:
        return "no outbox record matches"
    lines = [
        f"{'id':>6} {'type':<9} {'erp id':<14} {'status':<8} {'tries':>5}  {'created':<20} error"
    ]
    lines += [
        f"{r.id:>6} {r.type:<9} {clip(r.erp_id, 14):<14} {r.status:<8} {r.attempts:>5}  "
        f"{when(r.created_at):<20} {clip('; '.join(r.errors) or r.error or r.note, 60)}"
        for r in page.rows
    ]
    return "\n".join(lines + more_line(page.more, page.offset, len(page.rows)))

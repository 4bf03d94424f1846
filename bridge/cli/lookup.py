"""The ``events`` commands: what happened to an object (``show``), what is stuck (``list``),
and what a person does about it (``retry``, ``skip``)."""

from __future__ import annotations

import argparse
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
from bridge.clock import utcnow
from bridge.config import ConfigError
from bridge.errors import ExitCode
from bridge.inbox import lookup, manual
from bridge.store.events import RETRIABLE
from bridge.store.lookups import EventRow, Listing, OutboxRow
from bridge.store.models import EventStatus


def add_commands(commands: Any) -> None:
    """Register ``events show|list|retry|skip``."""
    codes = [ExitCode.DATABASE]
    events = commands.add_parser(
        "events",
        help="look up stored events; retry or skip them",
        epilog=epilog("centra-bridge events show order 1003", codes=codes),
    )
    actions = events.add_subparsers(
        dest="events_command", metavar="ACTION", required=True, help="what to do"
    )
    showing = actions.add_parser(
        "show",
        help="every event for one object (TYPE OBJECT_ID), or one event (EVENT_ID); reads only",
        epilog=epilog(
            "centra-bridge events show order 1003", "centra-bridge events show 115", codes=codes
        ),
    )
    showing.add_argument(
        "names",
        nargs="+",
        metavar="EVENT_ID | TYPE OBJECT_ID",
        help="an event id, or an event type and the object's id",
    )
    showing.add_argument("--json", action="store_true", help="answer with JSON")
    showing.set_defaults(run=_show)

    listing = actions.add_parser(
        "list",
        help="stored events, newest first; reads only",
        epilog=epilog("centra-bridge events list --status failed --type order", codes=codes),
    )
    listing.add_argument(
        "--status",
        action="append",
        default=[],
        choices=[s.value for s in EventStatus],
        help="only events in this status (repeatable)",
    )
    listing.add_argument("--type", action="append", default=[], help="event type (repeatable)")
    listing.add_argument("--since", type=timestamp, help="received at or after (ISO date/time)")
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

    retrying = actions.add_parser(
        "retry",
        help="make events due again, attempts reset (the service handles them)",
        epilog=epilog(
            "centra-bridge events retry 115 116",
            "centra-bridge events retry --status dead",
            codes=codes,
        ),
    )
    retrying.add_argument(
        "event_ids", nargs="*", metavar="EVENT_ID", help="the events (or give --status)"
    )
    retrying.add_argument("--status", choices=[str(s) for s in RETRIABLE], help="every event in it")
    retrying.add_argument("--json", action="store_true", help="answer with JSON")
    retrying.set_defaults(run=_retry)

    skipping = actions.add_parser(
        "skip",
        help="set events aside by hand, with the reason",
        epilog=epilog(
            'centra-bridge events skip 115 --reason "entered by hand in the ERP"', codes=codes
        ),
    )
    skipping.add_argument("event_ids", nargs="+", metavar="EVENT_ID", help="the events")
    skipping.add_argument("--reason", required=True, help="why (kept with each event)")
    skipping.add_argument("--json", action="store_true", help="answer with JSON")
    skipping.set_defaults(run=_skip)


def _show(args: argparse.Namespace) -> int:
    if len(args.names) > 2:
        raise ConfigError("events show: give EVENT_ID, or TYPE OBJECT_ID (e.g. order 1003)")
    with reading(args) as app:
        if len(args.names) == 1:
            detail = lookup.event_detail(app.store, args.names[0])
            answer_masked(args, app.settings, detail.as_dict(), render_event(detail))
        else:
            story = lookup.object_story(app.store, *args.names)
            answer_masked(args, app.settings, story.as_dict(), render_story(story))
    return ExitCode.OK


def _list(args: argparse.Namespace) -> int:
    query = lookup.EventQuery(
        statuses=tuple(args.status),
        types=tuple(args.type),
        since=args.since,
        limit=args.limit,
        offset=args.offset,
    )
    with reading(args) as app:
        page = lookup.list_events(app.store, query)
        answer_masked(args, app.settings, page.as_dict("events"), render_list(page))
    return ExitCode.OK


def _retry(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with App.open(settings) as app:
        changed = manual.retry_events(
            app.store, who(), utcnow(), event_ids=args.event_ids, status=args.status
        )
    note = service_note(settings.database.url, "handles them") if changed else ""
    text = f"{changed} event{'s' * (changed != 1)} due again, attempts reset" + (
        f"; {note}" if note else ""
    )
    answer_masked(args, settings, {"retried": changed, "service": note or None}, text)
    return ExitCode.OK


def _skip(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with App.open(settings) as app:
        changed = manual.skip_events(app.store, args.event_ids, args.reason, who(), utcnow())
    them = "it" if changed == 1 else "them"
    text = f"{changed} event{'s' * (changed != 1)} skipped: no handler runs {them} again"
    answer_masked(args, settings, {"skipped": changed}, text)
    return ExitCode.OK


def _attempts(count: int) -> str:
    return f"{count} attempt{'s' * (count != 1)}"


def _event_lines(event: EventRow, indent: str) -> list[str]:
    """One event: its line, then what happened to it, one fact a line."""
    lines = [
        f"{indent}event {event.event_id}  {event.type} {event.object_id}  {event.mission}  "
        f"{event.status}, {_attempts(event.attempts)}"
    ]
    more = indent + "    "
    lines.append(f"{more}dated {event.date or '-'} by Centra")
    lines.append(
        f"{more}received {when(event.received_at)}, acknowledged {when(event.acknowledged_at)}, "
        f"handled {when(event.handled_at)}"
    )
    if event.status == EventStatus.FAILED and event.next_attempt_at is not None:
        lines.append(f"{more}next try {when(event.next_attempt_at)}")
    if event.error:
        label = "error" if event.status in (EventStatus.FAILED, EventStatus.DEAD) else "last error"
        lines.append(f"{more}{label}: {clip(event.error, 200)}")
    if event.echo:
        lines.append(f"{more}echo of a push by the bridge: not delivered")
    if event.delivered_to:
        lines.append(f"{more}delivered to {event.delivered_to}")
    if event.note:
        lines.append(f"{more}note: {event.note}")
    return lines


def render_event(detail: lookup.EventDetail) -> str:
    """One event and its XML as stored."""
    return "\n".join([*_event_lines(detail.event, ""), "", detail.xml.strip()])


def render_story(story: lookup.ObjectStory) -> str:
    """What happened to one object, oldest event first, then where it stands now."""
    lines = [f"{story.type} {story.object_id}"]
    earlier = f"; {story.earlier_events} earlier not shown" if story.earlier_events else ""
    lines.append(
        f"events ({len(story.events)}, oldest first{earlier})" if story.events else "events: none"
    )
    for event in story.events:
        lines += _event_lines(event, "  ")
    lines += _copy_lines(story.copy)
    earlier = f"; {story.earlier_outbox} earlier not shown" if story.earlier_outbox else ""
    lines.append(f"outbox ({len(story.outbox)}{earlier})" if story.outbox else "outbox: none")
    lines += [f"  {line}" for record in story.outbox for line in record_lines(record)]
    lines.append("id map" if story.mappings else "id map: none")
    lines += [
        f"  erp {link.erp_id or '-'} <-> centra {link.centra_id} ({link.origin})"
        for link in story.mappings
    ]
    return "\n".join(lines)


def _copy_lines(copy: dict[str, Any] | None) -> list[str]:
    if copy is None:
        return ["ERP-facing copy: none"]
    children = {name: copy[name] for name in ("lines", "shipments") if name in copy}
    header = {
        key: value
        for key, value in copy.items()
        if key not in children
        and key not in ("updated_at", "written_by_event")
        and value not in ("", None)
    }
    lines = [
        f"ERP-facing copy (from event {copy.get('written_by_event') or '-'}, "
        f"updated {when(copy.get('updated_at'))})",
        "  " + " ".join(f"{key}={value}" for key, value in header.items()),
    ]
    for name, rows in children.items():
        lines += [
            f"  {name[:-1]} " + " ".join(f"{k}={v}" for k, v in row.items() if v not in ("", None))
            for row in rows
        ]
    return lines


def record_lines(record: OutboxRow) -> list[str]:
    """One outbox record: its line, then Centra's answer as stored."""
    lines = [
        f"#{record.id} {record.type} erp {record.erp_id} -> centra {record.centra_id or '-'}  "
        f"{record.status}, {_attempts(record.attempts)}, created {when(record.created_at)}, "
        f"sent {when(record.sent_at)}"
    ]
    lines += [f"    centra error: {error}" for error in record.errors]
    lines += [f"    centra notice: {notice}" for notice in record.notices]
    if record.error and not record.errors:
        lines.append(f"    error: {clip(record.error, 200)}")
    if record.echo_event_id:
        lines.append(f"    shown back by event {record.echo_event_id}")
    if record.note:
        lines.append(f"    note: {record.note}")
    return lines


def render_list(page: Listing) -> str:
    """Events as a table, one a line, the error cut to fit (``--json`` keeps it whole)."""
    if not page.rows:
        return "no stored event matches"
    lines = [
        f"{'event id':<12} {'type':<10} {'object':<12} {'status':<10} {'tries':>5}  "
        f"{'received':<20} error"
    ]
    lines += [
        f"{e.event_id:<12} {e.type:<10} {clip(e.object_id, 12):<12} {e.status:<10} "
        f"{e.attempts:>5}  {when(e.received_at):<20} {clip(e.error or e.note, 60)}"
        for e in page.rows
    ]
    return "\n".join(lines + more_line(page.more, page.offset, len(page.rows)))

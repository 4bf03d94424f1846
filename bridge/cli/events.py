"""The Centra-side commands: ``drain-events``, ``replay`` and ``status``."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.app import App
from bridge.cli.common import (
    CENTRA_CODES,
    answer,
    epilog,
    fail,
    load_settings,
    positive_int,
    reading,
    seconds,
    timestamp,
)
from bridge.cli.progress import reporting
from bridge.clock import utcnow
from bridge.config import EVENT_TYPES
from bridge.daemon import signals
from bridge.errors import ExitCode
from bridge.inbox import status as status_module
from bridge.inbox.drain import DrainOptions
from bridge.inbox.replay import check_selection, choose, replay
from bridge.store.events import ReplaySelection
from bridge.store.lock import held
from bridge.store.models import EventStatus


def add_commands(commands: Any) -> None:
    """Register ``drain-events``, ``replay`` and ``status``."""
    drain = commands.add_parser(
        "drain-events",
        help="fetch, store, acknowledge and handle events until the queue is empty",
        epilog=epilog(
            "centra-bridge --config /etc/centra-bridge/config.toml drain-events",
            "centra-bridge drain-events --type order --max-pages 10 --json",
            codes=[*CENTRA_CODES, ExitCode.PARTIAL, ExitCode.DATABASE, ExitCode.LOCKED],
            meanings={
                ExitCode.OK: "the queue is empty (or --max-pages reached)",
                ExitCode.PARTIAL: "stopped early (a signal, or a queue that does not move)",
            },
        ),
    )
    drain.add_argument("--type", choices=EVENT_TYPES, help="only this event type (Centra filter)")
    drain.add_argument(
        "--market", action="append", metavar="ID", help="only these markets (repeatable)"
    )
    drain.add_argument("--max-pages", type=positive_int, metavar="N", help="stop after N pages")
    drain.add_argument("--json", action="store_true", help="answer with JSON")
    drain.set_defaults(run=_drain)

    replay = commands.add_parser(
        "replay",
        help="run stored events through the handlers again (never calls Centra)",
        epilog=epilog(
            "centra-bridge replay 1003 1004",
            "centra-bridge replay --type order --status dead --dry-run",
            codes=[ExitCode.PARTIAL, ExitCode.DATABASE],
            meanings={ExitCode.PARTIAL: "some replayed events failed again"},
        ),
    )
    replay.add_argument(
        "event_ids", nargs="*", metavar="EVENT_ID", help="Centra event ids (as status shows them)"
    )
    replay.add_argument("--type", action="append", default=[], help="event type (repeatable)")
    replay.add_argument(
        "--status",
        action="append",
        default=[],
        choices=[s.value for s in EventStatus],
        help="current status, e.g. failed or dead (repeatable)",
    )
    replay.add_argument("--since", type=timestamp, help="received at or after (ISO date/time)")
    replay.add_argument("--until", type=timestamp, help="received before (ISO date/time)")
    replay.add_argument("--dry-run", action="store_true", help="list the events, run nothing")
    replay.add_argument("--json", action="store_true", help="answer with JSON")
    replay.set_defaults(run=_replay)

    status = commands.add_parser(
        "status",
        help="what the store holds and what is stuck (reads only; needs no password)",
        epilog=epilog(
            "centra-bridge status --config /etc/centra-bridge/config.toml",
            "centra-bridge status --json | jq .events.by_status",
            "centra-bridge status --max-age 600    # for monitoring",
            codes=[ExitCode.DATABASE, ExitCode.STALE],
        ),
    )
    status.add_argument("--json", action="store_true", help="answer with JSON")
    status.add_argument(
        "--max-age",
        type=seconds,
        metavar="SECONDS",
        help=f"exit {int(ExitCode.STALE)} if the last successful poll is older (for monitoring)",
    )
    status.set_defaults(run=_status)


def _drain(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    options = DrainOptions(event_type=args.type, markets=args.market, max_pages=args.max_pages)
    with (
        held(settings.database.url) as lock,
        App.open(settings) as app,
        signals.handled() as control,
        reporting() as progress,
    ):
        report = app.inbox(lock).drain(options, control.stop, progress=progress)
    answer(args, report.as_dict(), report.summary())
    return ExitCode.OK if report.complete else ExitCode.PARTIAL


def _replay(args: argparse.Namespace) -> int:
    selection = ReplaySelection(
        event_ids=args.event_ids,
        types=args.type,
        statuses=args.status,
        since=args.since,
        until=args.until,
    )
    check_selection(selection)
    if args.dry_run:
        with reading(args) as app:
            chosen = choose(app.store, selection)
        rows = [{"event_id": e.event_id, "type": e.type, "status": e.status} for e in chosen]
        text = "\n".join(f"{e.event_id:>12}  {e.type:<12} {e.status}" for e in chosen)
        answer(args, {"would_replay": rows}, text or "no stored event matches")
        return ExitCode.OK
    # Replay runs the handlers (site code included) but never calls Centra: no password.
    with App.open(load_settings(args, read_password=False)) as app, reporting() as progress:
        report = replay(app.store, app.dispatcher, selection, progress)
    counts = report.counts
    data = {"replayed": len(report.chosen), **{status: counts[status] for status in sorted(counts)}}
    text = f"replayed={len(report.chosen)} " + " ".join(
        f"{k}={v}" for k, v in sorted(counts.items())
    )
    answer(args, data, text)
    return ExitCode.OK if not report.failed else ExitCode.PARTIAL


def _status(args: argparse.Namespace) -> int:
    with reading(args) as app, app.store.reading() as session:
        data = status_module.report(session, utcnow(), app.settings.centra.token_expires)
    answer(args, data, render(data))
    problem = status_module.stale(data, args.max_age) if args.max_age else None
    return fail(ExitCode.STALE, problem) if problem else ExitCode.OK


def render(data: dict[str, Any]) -> str:
    """The report as a short table for people."""
    events = data["events"]
    poll = data["poll"]
    lines = [f"last poll ok       {_ago(poll)}"]
    if poll["last_error"] and (poll["last_failure_at"] or "") > (poll["last_success_at"] or ""):
        lines.append(f"last poll failed   {poll['last_failure_at']}: {poll['last_error']}")
    lines.append(f"pending            {events['pending']}")
    lines.append(f"events             {events['total']}")
    lines += [f"  {status:<16} {count}" for status, count in events["by_status"].items()]
    lines.append(f"  {'unacknowledged':<16} {events['unacknowledged']}")
    lines.append(f"last received      {events['last_received_at'] or '-'}")
    failed = events["oldest_failed"]
    if failed:
        lines.append(
            f"oldest failed      event {failed['event_id']} ({failed['type']}, "
            f"{failed['status']}, {failed['attempts']} attempts): {failed['error']}"
        )
        others = events["by_status"]["failed"] + events["by_status"]["dead"] - 1
        if others > 0:
            lines.append(
                f"  … {others} more failed or dead "
                "(centra-bridge events list --status failed --status dead)"
            )
    if events["by_type"]:
        lines.append(
            "by type            "
            + ", ".join(
                f"{event_type}={count}" for event_type, count in sorted(events["by_type"].items())
            )
        )
    outbox = data["outbox"]
    lines.append(f"outbox             {outbox['total']}")
    lines += [f"  {status:<16} {count}" for status, count in sorted(outbox["by_status"].items())]
    lines += [
        f"  #{record['id']} {record['type']} {record['erp_id']} ({record['status']}, "
        f"{record['attempts']} attempts, {record['source'] or '-'}): "
        f"{'; '.join(record['errors']) or record['last_error']}"
        for record in outbox.get("troubled", [])
    ]
    if outbox.get("troubled_more"):
        lines.append(
            f"  … {outbox['troubled_more']} more failed or dead "
            "(centra-bridge outbox list --status failed --status dead)"
        )
    lines.append(f"id map             {data['id_map']['total']}")
    return "\n".join(lines + _centra_lines(data["centra"]))


#: Centra's ``EventChangeType``s: a listener to all of them is shown by its name alone.
_EVERY_CHANGE = frozenset({"CREATED", "UPDATED", "COMPLETED", "DELETED", "DEPENDENT_DATA_CHANGED"})


def _centra_lines(centra: dict[str, Any]) -> list[str]:
    """GraphQL only: the event listeners Centra keeps, and the days the token has left."""
    lines = []
    if centra["listeners"] is not None:
        listening = ", ".join(
            name + (f" ({', '.join(changes)})" if changes and set(changes) < _EVERY_CHANGE else "")
            for name, changes in sorted(centra["listeners"].items())
        )
        lines.append(f"event listeners    {listening or '-'} (set {centra['listeners_set_at']})")
    days = centra["token_days_left"]
    if days is not None:
        when = f"expired {-days} days ago" if days < 0 else f"in {days} days"
        lines.append(f"token expires      {centra['token_expires']} ({when})")
    return lines


def _ago(poll: dict[str, Any]) -> str:
    if poll["last_success_at"] is None:
        return "never"
    age = f" ({poll['age_s']:.0f} s ago)" if poll["age_s"] is not None else ""
    return f"{poll['last_success_at']}{age}"

"""The ``centra-bridge`` command: parse, build Settings, call one library function, answer.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr. The
ERP-side commands are in ``bridge.erp_cli``; what all commands share is in ``bridge.command``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bridge import __version__, daemon, exitcodes
from bridge import config as config_module
from bridge import status as status_module
from bridge.bench.cli import add_bench_command
from bridge.centra.errors import CentraAuthError, CentraError, CentraUnavailable
from bridge.command import (
    answer,
    configure_logging,
    fail,
    first_line,
    load_settings,
    opened,
    positive_int,
    seconds,
    stop_on_signals,
    store_lock,
    timestamp,
)
from bridge.config import EVENT_TYPES, ConfigError
from bridge.demo import DEFAULT_DATABASE, run_demo
from bridge.erp_cli import add_erp_commands
from bridge.handlers.registry import HandlerLoadError
from bridge.inbox import DrainOptions, QueueStalled
from bridge.lock import LockHeld
from bridge.simulator import FAULT_KINDS, Fault, FaultPlan, serve
from bridge.store import Store, schema, state
from bridge.store import events as repo
from bridge.store.engine import DatabaseFileError
from bridge.store.models import EventStatus


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return exitcodes.CONFIG
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except LockHeld as exc:
        return fail(exitcodes.LOCKED, str(exc))
    except (ConfigError, HandlerLoadError) as exc:
        return fail(exitcodes.CONFIG, str(exc))
    except CentraAuthError as exc:
        return fail(exitcodes.AUTH, f"Centra refused the login: {exc}")
    except CentraUnavailable as exc:
        return fail(exitcodes.UNAVAILABLE, str(exc))
    except QueueStalled as exc:
        return fail(exitcodes.PARTIAL, str(exc))
    except CentraError as exc:
        request = f" (X-Centra-Request-ID {exc.request_id})" if exc.request_id else ""
        return fail(exitcodes.CENTRA_ERROR, f"Centra error{request}: {exc}")
    except (SQLAlchemyError, DatabaseFileError) as exc:
        return fail(exitcodes.DATABASE, f"database error: {first_line(exc)}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="centra-bridge", description="Connects a legacy ERP with Centra over its SOAP API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"TOML configuration (default: ${config_module.CONFIG_ENV})",
    )
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--log-format", choices=("auto", "json", "console"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    drain = commands.add_parser(
        "drain-events", help="fetch, store, acknowledge and handle events until the queue is empty"
    )
    drain.add_argument("--type", choices=EVENT_TYPES, help="only this event type (Centra filter)")
    drain.add_argument(
        "--market", action="append", metavar="ID", help="only these markets (repeatable)"
    )
    drain.add_argument("--max-pages", type=positive_int, metavar="N", help="stop after N pages")
    drain.add_argument("--json", action="store_true", help="answer with JSON")
    drain.set_defaults(run=_drain)

    replay = commands.add_parser(
        "replay", help="run stored events through the handlers again (never calls Centra)"
    )
    replay.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
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

    run = commands.add_parser(
        "run", help="the service: poll Centra, retry failed events, prune old ones, until SIGTERM"
    )
    run.add_argument(
        "--standby",
        action="store_true",
        help="if another process polls this store, wait and take over when it stops",
    )
    run.set_defaults(run=_run)

    status = commands.add_parser("status", help="what the store holds and what is stuck")
    status.add_argument("--json", action="store_true", help="answer with JSON")
    status.add_argument(
        "--max-age",
        type=seconds,
        metavar="SECONDS",
        help=f"exit {exitcodes.STALE} if the last successful poll is older (for monitoring)",
    )
    status.set_defaults(run=_status)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply schema migrations").set_defaults(run=_db_upgrade)

    simulate = commands.add_parser("simulate", help="run the bundled Centra simulator")
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8765)
    simulate.add_argument("--events", type=int, default=300, help="events queued at start")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--username", default="demo")
    simulate.add_argument("--password", default="demo-password")
    simulate.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:OPS[:RATE[:TIMES]]]",
        help="inject a fault, e.g. http-503:events_Get:0.2 (repeatable; kinds: "
        + ", ".join(sorted(FAULT_KINDS))
        + ")",
    )
    simulate.add_argument("--latency", type=float, metavar="SECONDS", help="delay every answer")
    simulate.set_defaults(run=_simulate)

    demo = commands.add_parser(
        "demo", help="start the simulator, drain its events into a local SQLite file, summarise"
    )
    demo.add_argument("--events", type=positive_int, default=300)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--database",
        type=Path,
        default=DEFAULT_DATABASE,
        help=f"a new SQLite file (default: {DEFAULT_DATABASE}, replaced on each run)",
    )
    demo.set_defaults(run=_demo)
    add_bench_command(commands)
    add_erp_commands(commands)
    return parser


def _drain(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    options = DrainOptions(event_type=args.type, markets=args.market, max_pages=args.max_pages)
    with store_lock(settings), opened(settings) as app, stop_on_signals() as stop:
        report = app.inbox().drain(options, stop)
        if report.pages:
            with app.store.transaction() as session:
                state.poll_succeeded(session, datetime.now(UTC))
    answer(args, report.as_dict(), report.summary())
    return exitcodes.OK if report.complete else exitcodes.PARTIAL


def _replay(args: argparse.Namespace) -> int:
    selection = repo.ReplaySelection(
        event_ids=args.event_ids,
        types=args.type,
        statuses=args.status,
        since=args.since,
        until=args.until,
    )
    if selection.is_empty():
        raise ConfigError(
            "replay: say which events: EVENT_ID…, --type, --status, --since or --until"
        )
    settings = load_settings(args)
    with opened(settings) as app:
        with app.store.transaction() as session:
            chosen = [
                (row.seq, row.event_id, row.type, row.status)
                for row in repo.select_for_replay(session, selection)
            ]
        missing = sorted(set(args.event_ids) - {event_id for _, event_id, _, _ in chosen})
        if missing:
            raise ConfigError(f"replay: no stored event with id {', '.join(missing)}")
        if args.dry_run:
            rows = [{"event_id": e, "type": t, "status": s} for _, e, t, s in chosen]
            text = "\n".join(f"{e:>12}  {t:<12} {s}" for _, e, t, s in chosen)
            answer(args, {"would_replay": rows}, text or "no stored event matches")
            return exitcodes.OK
        counts = app.dispatcher.run((seq for seq, *_ in chosen), replay=True)
    data = {"replayed": len(chosen), **{status: counts[status] for status in sorted(counts)}}
    text = f"replayed={len(chosen)} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    answer(args, data, text)
    failed = counts["failed"] + counts["dead"]
    return exitcodes.OK if not failed else exitcodes.PARTIAL


def _status(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    with opened(settings) as app, app.store.reading() as session:
        data = status_module.report(session, datetime.now(UTC))
    answer(args, data, status_module.render(data))
    problem = status_module.stale(data, args.max_age) if args.max_age else None
    return fail(exitcodes.STALE, problem) if problem else exitcodes.OK


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    return daemon.run(settings, load=lambda: load_settings(args), standby=args.standby)


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    store = Store.open(settings.database.url, migrate=False)
    try:
        before, after = schema.upgrade(store.engine)
    finally:
        store.close()
    print(f"schema {before or 'empty'} -> {after}" if before != after else f"schema at {after}")
    return exitcodes.OK


def _simulate(args: argparse.Namespace) -> int:
    configure_logging(args, None)
    try:
        faults = [Fault.parse(spec) for spec in args.fault]
    except ValueError as exc:
        raise ConfigError(f"simulate --fault: {exc}") from None
    if args.latency:
        faults.append(Fault("latency", delay_s=args.latency))
    serve(
        host=args.host,
        port=args.port,
        events=args.events,
        seed=args.seed,
        username=args.username,
        password=args.password,
        faults=FaultPlan(faults, seed=args.seed) if faults else None,
    )
    return exitcodes.OK


def _demo(args: argparse.Namespace) -> int:
    configure_logging(args, None)
    return run_demo(events=args.events, seed=args.seed, database=args.database)

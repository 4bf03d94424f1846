"""The ``centra-bridge`` command: parse, build Settings, call one library function, answer.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bridge import __version__, daemon, exitcodes, ids, push
from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge import status as status_module
from bridge.app import App
from bridge.bench.cli import add_bench_command
from bridge.centra.errors import CentraAuthError, CentraError, CentraUnavailable
from bridge.config import EVENT_TYPES, ConfigError, Settings
from bridge.demo import DEFAULT_DATABASE, run_demo
from bridge.erp_input import InputError
from bridge.handlers.registry import HandlerLoadError
from bridge.idmap import ENTITY_TYPES, IdConflict
from bridge.inbox import DrainOptions, QueueStalled
from bridge.lock import LockHeld, StoreLock, for_database
from bridge.simulator import FAULT_KINDS, Fault, FaultPlan, serve
from bridge.sinks.directory import write_private
from bridge.store import Store, schema, state
from bridge.store import events as repo
from bridge.store.engine import DatabaseFileError
from bridge.store.models import EventStatus

log = structlog.get_logger(__name__)


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
        return _fail(exitcodes.LOCKED, str(exc))
    except (ConfigError, HandlerLoadError) as exc:
        return _fail(exitcodes.CONFIG, str(exc))
    except CentraAuthError as exc:
        return _fail(exitcodes.AUTH, f"Centra refused the login: {exc}")
    except CentraUnavailable as exc:
        return _fail(exitcodes.UNAVAILABLE, str(exc))
    except QueueStalled as exc:
        return _fail(exitcodes.PARTIAL, str(exc))
    except CentraError as exc:
        request = f" (X-Centra-Request-ID {exc.request_id})" if exc.request_id else ""
        return _fail(exitcodes.CENTRA_ERROR, f"Centra error{request}: {exc}")
    except (SQLAlchemyError, DatabaseFileError) as exc:
        return _fail(exitcodes.DATABASE, f"database error: {_first_line(exc)}")


def _fail(code: int, message: str) -> int:
    print(f"centra-bridge: {_first_line(message)}", file=sys.stderr)
    return code


def _first_line(value: object) -> str:
    return str(value).strip().splitlines()[0] if str(value).strip() else type(value).__name__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="centra-bridge", description="Connects a legacy ERP with Centra over its SOAP API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config", metavar="FILE",
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
    drain.add_argument("--max-pages", type=_positive_int, metavar="N", help="stop after N pages")
    drain.add_argument("--json", action="store_true", help="answer with JSON")
    drain.set_defaults(run=_drain)

    replay = commands.add_parser(
        "replay", help="run stored events through the handlers again (never calls Centra)"
    )
    replay.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    replay.add_argument("--type", action="append", default=[], help="event type (repeatable)")
    replay.add_argument(
        "--status", action="append", default=[], choices=[s.value for s in EventStatus],
        help="current status, e.g. failed or dead (repeatable)",
    )
    replay.add_argument("--since", type=_timestamp, help="received at or after (ISO date/time)")
    replay.add_argument("--until", type=_timestamp, help="received before (ISO date/time)")
    replay.add_argument("--dry-run", action="store_true", help="list the events, run nothing")
    replay.add_argument("--json", action="store_true", help="answer with JSON")
    replay.set_defaults(run=_replay)

    run = commands.add_parser(
        "run", help="the service: poll Centra, retry failed events, prune old ones, until SIGTERM"
    )
    run.add_argument(
        "--standby", action="store_true",
        help="if another process polls this store, wait and take over when it stops",
    )
    run.set_defaults(run=_run)

    status = commands.add_parser("status", help="what the store holds and what is stuck")
    status.add_argument("--json", action="store_true", help="answer with JSON")
    status.add_argument(
        "--max-age", type=_seconds, metavar="SECONDS",
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
        "--fault", action="append", default=[], metavar="KIND[:OPS[:RATE[:TIMES]]]",
        help="inject a fault, e.g. http-503:events_Get:0.2 (repeatable; kinds: "
        + ", ".join(sorted(FAULT_KINDS)) + ")",
    )
    simulate.add_argument("--latency", type=float, metavar="SECONDS", help="delay every answer")
    simulate.set_defaults(run=_simulate)

    demo = commands.add_parser(
        "demo", help="start the simulator, drain its events into a local SQLite file, summarise"
    )
    demo.add_argument("--events", type=_positive_int, default=300)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--database", type=Path, default=DEFAULT_DATABASE,
        help=f"a new SQLite file (default: {DEFAULT_DATABASE}, replaced on each run)",
    )
    demo.set_defaults(run=_demo)
    add_bench_command(commands)
    _erp_commands(commands)
    return parser


def _erp_commands(commands: Any) -> None:
    pushing = commands.add_parser(
        "push", help="queue ERP updates (JSON Lines) and send them with products/customers_Update"
    )
    pushing.add_argument("files", nargs="*", type=Path, metavar="FILE",
                         help="JSON Lines files; none: pick up the drop directory")
    mode = pushing.add_mutually_exclusive_group()
    mode.add_argument("--queue-only", action="store_true", help="store, send nothing")
    mode.add_argument("--dry-run", action="store_true",
                      help="print the SOAP requests (password masked); store and send nothing")
    pushing.add_argument("--retry", action="store_true", help="send failed and dead records again")
    pushing.add_argument("--json", action="store_true", help="answer with JSON")
    pushing.set_defaults(run=_push)

    id_map = commands.add_parser("ids", help="the ERP id ↔ Centra id map")
    actions = id_map.add_subparsers(dest="ids_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show mappings")
    listing.add_argument("--type", choices=ENTITY_TYPES)
    listing.add_argument("--json", action="store_true", help="answer with JSON")
    listing.set_defaults(run=_ids_list)
    setting = actions.add_parser("set", help="map an ERP id to a Centra id")
    removing = actions.add_parser("remove", help="forget the mapping of an ERP id")
    for action in (setting, removing):
        action.add_argument("type", choices=ENTITY_TYPES)
        action.add_argument("erp_id")
    setting.add_argument("centra_id")
    setting.set_defaults(run=_ids_set)
    removing.set_defaults(run=_ids_remove)
    importing = actions.add_parser("import", help="add mappings from a CSV file (all or none)")
    importing.add_argument("file", type=Path)
    importing.set_defaults(run=_ids_import)
    exporting = actions.add_parser("export", help="write the map as CSV (to stdout by default)")
    exporting.add_argument("file", type=Path, nargs="?")
    exporting.add_argument("--type", choices=ENTITY_TYPES)
    exporting.set_defaults(run=_ids_export)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-11-26 or 2026-11-26T08:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _settings(args: argparse.Namespace) -> Settings:
    settings = config_module.load(config_module.config_path(args.config))
    _configure_logging(args, settings)
    return settings


def _configure_logging(args: argparse.Namespace, settings: Settings | None) -> None:
    level = args.log_level or (settings.logging.level if settings else "info")
    fmt = args.log_format or (settings.logging.format if settings else "auto")
    secrets = [settings.centra.password.reveal()] if settings else []
    bridge_logging.configure(level, fmt, secrets, config_module.journal_stream())


@contextmanager
def _app(settings: Settings) -> Iterator[App]:
    app = App.open(settings)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def _store_lock(settings: Settings) -> Iterator[StoreLock]:
    """One poller per store: a drain does not run beside ``run`` or another drain."""
    lock = for_database(settings.database.url)
    if not lock.acquire():
        raise LockHeld(lock)
    try:
        yield lock
    finally:
        lock.release()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT let the page in flight finish (stored and acknowledged), then stop."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("stop requested; finishing the page in flight", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _answer(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)


def _drain(args: argparse.Namespace) -> int:
    settings = _settings(args)
    options = DrainOptions(event_type=args.type, markets=args.market, max_pages=args.max_pages)
    with _store_lock(settings), _app(settings) as app, _stop_on_signals() as stop:
        report = app.inbox().drain(options, stop)
        if report.pages:
            with app.store.transaction() as session:
                state.poll_succeeded(session, datetime.now(UTC))
    _answer(args, report.as_dict(), report.summary())
    return exitcodes.OK if report.complete else exitcodes.PARTIAL


def _replay(args: argparse.Namespace) -> int:
    selection = repo.ReplaySelection(
        event_ids=args.event_ids, types=args.type, statuses=args.status,
        since=args.since, until=args.until,
    )
    if selection.is_empty():
        raise ConfigError(
            "replay: say which events: EVENT_ID…, --type, --status, --since or --until"
        )
    settings = _settings(args)
    with _app(settings) as app:
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
            _answer(args, {"would_replay": rows}, text or "no stored event matches")
            return exitcodes.OK
        counts = app.dispatcher.run((seq for seq, *_ in chosen), replay=True)
    data = {"replayed": len(chosen), **{status: counts[status] for status in sorted(counts)}}
    text = f"replayed={len(chosen)} " + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    _answer(args, data, text)
    failed = counts["failed"] + counts["dead"]
    return exitcodes.OK if not failed else exitcodes.PARTIAL


def _status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _app(settings) as app, app.store.transaction() as session:
        data = status_module.report(session, datetime.now(UTC))
    _answer(args, data, status_module.render(data))
    problem = status_module.stale(data, args.max_age) if args.max_age else None
    return _fail(exitcodes.STALE, problem) if problem else exitcodes.OK


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return daemon.run(settings, load=lambda: _settings(args), standby=args.standby)


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = Store.open(settings.database.url, migrate=False)
    try:
        before, after = schema.upgrade(store.engine)
    finally:
        store.close()
    print(f"schema {before or 'empty'} -> {after}" if before != after else f"schema at {after}")
    return exitcodes.OK


def _simulate(args: argparse.Namespace) -> int:
    _configure_logging(args, None)
    try:
        faults = [Fault.parse(spec) for spec in args.fault]
    except ValueError as exc:
        raise ConfigError(f"simulate --fault: {exc}") from None
    if args.latency:
        faults.append(Fault("latency", delay_s=args.latency))
    serve(
        host=args.host, port=args.port, events=args.events, seed=args.seed,
        username=args.username, password=args.password,
        faults=FaultPlan(faults, seed=args.seed) if faults else None,
    )
    return exitcodes.OK


def _demo(args: argparse.Namespace) -> int:
    _configure_logging(args, None)
    return run_demo(events=args.events, seed=args.seed, database=args.database)


def _push(args: argparse.Namespace) -> int:
    if args.dry_run and not args.files:
        raise ConfigError("push --dry-run: name the files to show")
    settings = _settings(args)
    lock = for_database(settings.database.url)
    # Beside a running service, only queue: two senders could put older data over newer.
    sending = not (args.dry_run or args.queue_only) and lock.acquire()
    try:
        with _app(settings) as app, _stop_on_signals() as stop:
            if args.dry_run:
                print("\n".join(push.dry_run(app, args.files)), end="")
                return exitcodes.OK
            report = push.push(app, args.files, queue_only=not sending, retry=args.retry,
                               stop=stop)
            if not (sending or args.queue_only):
                report.stopped = "queued only: the centra-bridge service on this store sends them"
    except InputError as exc:
        for problem in exc.problems:
            print(f"centra-bridge: {problem}", file=sys.stderr)
        return _fail(exitcodes.CONFIG, "nothing queued: fix the lines above and push again")
    except IdConflict as exc:
        return _fail(exitcodes.CONFIG, str(exc))
    finally:
        if sending:
            lock.release()
    _answer(args, report.as_dict(), report.summary())
    if report.stopped == "Centra unreachable":
        return exitcodes.UNAVAILABLE
    return exitcodes.OK if report.ok or not sending else exitcodes.PARTIAL


def _ids_list(args: argparse.Namespace) -> int:
    with _app(_settings(args)) as app:
        links = ids.listing(app.store, args.type)
    _answer(args, {"mappings": ids.as_rows(links)}, ids.render(links))
    return exitcodes.OK


def _ids_set(args: argparse.Namespace) -> int:
    try:
        with _app(_settings(args)) as app:
            change = ids.set_link(app.store, args.type, args.erp_id, args.centra_id)
    except IdConflict as exc:
        return _fail(exitcodes.CONFIG, str(exc))
    print(f"{args.type} {args.erp_id} -> {args.centra_id} ({change})")
    return exitcodes.OK


def _ids_remove(args: argparse.Namespace) -> int:
    try:
        with _app(_settings(args)) as app:
            removed = ids.remove(app.store, args.type, args.erp_id)
    except LookupError as exc:
        return _fail(exitcodes.CONFIG, str(exc.args[0]))
    print(f"removed {removed.entity_type} {removed.erp_id} -> {removed.centra_id}")
    return exitcodes.OK


def _ids_import(args: argparse.Namespace) -> int:
    try:
        with _app(_settings(args)) as app:
            counts = ids.import_csv(app.store, args.file)
    except ValueError as exc:
        for line in str(exc).splitlines()[:-1]:
            print(f"centra-bridge: {line}", file=sys.stderr)
        return _fail(exitcodes.CONFIG, str(exc).splitlines()[-1])
    except IdConflict as exc:
        return _fail(exitcodes.CONFIG, str(exc))
    print("imported: " + " ".join(f"{k}={counts[k]}" for k in ("added", "linked", "unchanged")))
    return exitcodes.OK


def _ids_export(args: argparse.Namespace) -> int:
    with _app(_settings(args)) as app:
        text = ids.export_csv(app.store, args.type)
    if args.file is None:
        print(text, end="")
    else:
        write_private(args.file, text.encode("utf-8"))
    return exitcodes.OK

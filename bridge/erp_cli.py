"""The ERP-side commands: ``push`` (ERP updates to Centra) and ``ids`` (the id map)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bridge import exitcodes, ids, push
from bridge.command import answer, fail, load_settings, opened, stop_on_signals
from bridge.config import ConfigError
from bridge.erp_input import InputError
from bridge.idmap import ENTITY_TYPES, IdConflict
from bridge.lock import for_database
from bridge.sinks.directory import write_private


def add_erp_commands(commands: Any) -> None:
    """Register ``push`` and ``ids`` on the ``centra-bridge`` subcommand parser."""
    pushing = commands.add_parser(
        "push", help="queue ERP updates (JSON Lines) and send them with products/customers_Update"
    )
    pushing.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="JSON Lines files; none: pick up the drop directory",
    )
    mode = pushing.add_mutually_exclusive_group()
    mode.add_argument("--queue-only", action="store_true", help="store, send nothing")
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="print the SOAP requests (password masked); store and send nothing",
    )
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


def _push(args: argparse.Namespace) -> int:
    if args.dry_run and not args.files:
        raise ConfigError("push --dry-run: name the files to show")
    settings = load_settings(args)
    lock = for_database(settings.database.url)
    # Beside a running service, only queue: two senders could put older data over newer.
    sending = not (args.dry_run or args.queue_only) and lock.acquire()
    try:
        with opened(settings) as app, stop_on_signals() as stop:
            if args.dry_run:
                print("\n".join(push.dry_run(app, args.files)), end="")
                return exitcodes.OK
            report = push.push(app, args.files, queue_only=not sending, retry=args.retry, stop=stop)
            if not (sending or args.queue_only):
                report.stopped = "queued only: the centra-bridge service on this store sends them"
    except InputError as exc:
        for problem in exc.problems:
            print(f"centra-bridge: {problem}", file=sys.stderr)
        return fail(exitcodes.CONFIG, "nothing queued: fix the lines above and push again")
    except IdConflict as exc:
        return fail(exitcodes.CONFIG, str(exc))
    finally:
        if sending:
            lock.release()
    answer(args, report.as_dict(), report.summary())
    if report.stopped == "Centra unreachable":
        return exitcodes.UNAVAILABLE
    return exitcodes.OK if report.ok or not sending else exitcodes.PARTIAL


def _ids_list(args: argparse.Namespace) -> int:
    with opened(load_settings(args)) as app:
        links = ids.listing(app.store, args.type)
    answer(args, {"mappings": ids.as_rows(links)}, ids.render(links))
    return exitcodes.OK


def _ids_set(args: argparse.Namespace) -> int:
    try:
        with opened(load_settings(args)) as app:
            change = ids.set_link(app.store, args.type, args.erp_id, args.centra_id)
    except IdConflict as exc:
        return fail(exitcodes.CONFIG, str(exc))
    print(f"{args.type} {args.erp_id} -> {args.centra_id} ({change})")
    return exitcodes.OK


def _ids_remove(args: argparse.Namespace) -> int:
    try:
        with opened(load_settings(args)) as app:
            removed = ids.remove(app.store, args.type, args.erp_id)
    except LookupError as exc:
        return fail(exitcodes.CONFIG, str(exc.args[0]))
    print(f"removed {removed.entity_type} {removed.erp_id} -> {removed.centra_id}")
    return exitcodes.OK


def _ids_import(args: argparse.Namespace) -> int:
    try:
        with opened(load_settings(args)) as app:
            counts = ids.import_csv(app.store, args.file)
    except ValueError as exc:
        for line in str(exc).splitlines()[:-1]:
            print(f"centra-bridge: {line}", file=sys.stderr)
        return fail(exitcodes.CONFIG, str(exc).splitlines()[-1])
    except IdConflict as exc:
        return fail(exitcodes.CONFIG, str(exc))
    print("imported: " + " ".join(f"{k}={counts[k]}" for k in ("added", "linked", "unchanged")))
    return exitcodes.OK


def _ids_export(args: argparse.Namespace) -> int:
    with opened(load_settings(args)) as app:
        text = ids.export_csv(app.store, args.type)
    if args.file is None:
        print(text, end="")
    else:
        write_private(args.file, text.encode("utf-8"))
    return exitcodes.OK

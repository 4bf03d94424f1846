"""The ERP-side commands: ``push`` (ERP updates to Centra) and ``ids`` (the id map)."""

from __future__ import annotations

import argparse
import dataclasses
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bridge.app import App
from bridge.cli.common import CENTRA_CODES, answer, epilog, load_settings, reading
from bridge.cli.progress import reporting
from bridge.config import ConfigError
from bridge.daemon import signals
from bridge.errors import ExitCode
from bridge.handlers.sinks.directory import write_private
from bridge.outbox import idmap
from bridge.outbox.entities import MAPPED_TYPES
from bridge.outbox.queue import dry_run, push_files
from bridge.store.idmap import Link
from bridge.store.lock import held


def add_commands(commands: Any) -> None:
    """Register ``push`` and ``ids`` on the ``centra-bridge`` subcommand parser."""
    pushing = commands.add_parser(
        "push",
        help="queue ERP updates (JSON Lines) and send them with products/customers_Update",
        epilog=epilog(
            "centra-bridge --config /etc/centra-bridge/config.toml push updates.jsonl",
            "centra-bridge push --dry-run updates.jsonl",
            "centra-bridge push --retry         # the drop directory, and failed records again",
            codes=[*CENTRA_CODES, ExitCode.PARTIAL, ExitCode.DATABASE],
            meanings={ExitCode.PARTIAL: "some records were refused or not sent yet"},
        ),
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

    codes = [ExitCode.DATABASE]
    id_map = commands.add_parser(
        "ids",
        help="the ERP id ↔ Centra id map",
        epilog=epilog("centra-bridge ids list --type product", codes=codes),
    )
    actions = id_map.add_subparsers(
        dest="ids_command", metavar="ACTION", required=True, help="what to do"
    )
    listing = actions.add_parser(
        "list",
        help="show mappings (reads only; needs no password)",
        epilog=epilog("centra-bridge ids list --type customer --json", codes=codes),
    )
    listing.add_argument("--type", choices=MAPPED_TYPES, help="only this entity type")
    listing.add_argument("--json", action="store_true", help="answer with JSON")
    listing.set_defaults(run=_ids_list)
    setting = actions.add_parser(
        "set",
        help="map an ERP id to a Centra id",
        epilog=epilog("centra-bridge ids set product SKU-1001 42", codes=codes),
    )
    removing = actions.add_parser(
        "remove",
        help="forget the mapping of an ERP id",
        epilog=epilog("centra-bridge ids remove product SKU-1001", codes=codes),
    )
    for action in (setting, removing):
        action.add_argument("type", choices=MAPPED_TYPES, help="the entity type")
        action.add_argument("erp_id", help="the id in the ERP")
    setting.add_argument("centra_id", help="the id in Centra")
    setting.set_defaults(run=_ids_set)
    removing.set_defaults(run=_ids_remove)
    importing = actions.add_parser(
        "import",
        help="add mappings from a CSV file (all or none)",
        epilog=epilog("centra-bridge ids import mappings.csv", codes=codes),
    )
    importing.add_argument(
        "file", type=Path, help="CSV with columns entity_type, erp_id, centra_id (as export writes)"
    )
    importing.set_defaults(run=_ids_import)
    exporting = actions.add_parser(
        "export",
        help="write the map as CSV (to stdout by default; reads only)",
        epilog=epilog("centra-bridge ids export --type product > products.csv", codes=codes),
    )
    exporting.add_argument("file", type=Path, nargs="?", help="write here (private) instead")
    exporting.add_argument("--type", choices=MAPPED_TYPES, help="only this entity type")
    exporting.set_defaults(run=_ids_export)


def _push(args: argparse.Namespace) -> int:
    if args.dry_run and not args.files:
        raise ConfigError("push --dry-run: name the files to show")
    settings = load_settings(args)
    # Beside a running service, only queue: two senders could put older data over newer.
    sends = not (args.dry_run or args.queue_only)
    lock = held(settings.database.url, required=False) if sends else nullcontext(None)
    with (
        lock as taken,
        App.open(settings) as app,
        signals.handled() as control,
        reporting() as progress,
    ):
        if args.dry_run:
            print("\n".join(dry_run(app.outbox(), args.files)), end="")
            return ExitCode.OK
        sending = taken is not None
        report = push_files(
            app.outbox(progress),
            args.files,
            queue_only=not sending,
            retry=args.retry,
            stop=control.stop,
        )
    if sends and not sending:
        report.stopped = (
            "queued only: another centra-bridge holds this store's lock (the service sends "
            "them; if it was another push, push again once it ends)"
        )
    answer(args, report.as_dict(), report.summary())
    if report.stopped == "Centra unreachable":
        return ExitCode.UNAVAILABLE
    return ExitCode.OK if report.ok or not sending else ExitCode.PARTIAL


def _ids_list(args: argparse.Namespace) -> int:
    with reading(args) as app:
        links = idmap.listing(app.store, args.type)
    answer(args, {"mappings": [dataclasses.asdict(link) for link in links]}, _table(links))
    return ExitCode.OK


def _ids_set(args: argparse.Namespace) -> int:
    with App.open(load_settings(args, read_password=False)) as app:
        change = idmap.set_link(app.store, args.type, args.erp_id, args.centra_id)
    print(f"{args.type} {args.erp_id} -> {args.centra_id} ({change})")
    return ExitCode.OK


def _ids_remove(args: argparse.Namespace) -> int:
    with App.open(load_settings(args, read_password=False)) as app:
        removed = idmap.remove(app.store, args.type, args.erp_id)
    print(f"removed {removed.entity_type} {removed.erp_id} -> {removed.centra_id}")
    return ExitCode.OK


def _ids_import(args: argparse.Namespace) -> int:
    with App.open(load_settings(args, read_password=False)) as app:
        counts = idmap.import_csv(app.store, args.file)
    print("imported: " + " ".join(f"{k}={counts[k]}" for k in ("added", "linked", "unchanged")))
    return ExitCode.OK


def _ids_export(args: argparse.Namespace) -> int:
    with reading(args) as app:
        text = idmap.export_csv(app.store, args.type)
    if args.file is None:
        print(text, end="")
    else:
        write_private(args.file, text.encode("utf-8"))
    return ExitCode.OK


def _table(links: list[Link]) -> str:
    """A table for people; a Centra id without ERP id shows ``-``."""
    if not links:
        return "no mappings"
    lines = [f"{'type':<10} {'erp id':<24} {'centra id':<24} origin"]
    lines += [
        f"{link.entity_type:<10} {link.erp_id or '-':<24} {link.centra_id:<24} {link.origin}"
        for link in links
    ]
    return "\n".join(lines)

"""The service's commands: ``run`` (the daemon) and ``db upgrade``."""

from __future__ import annotations

import argparse
from typing import Any

from bridge import daemon
from bridge.cli.common import epilog, load_settings
from bridge.errors import ExitCode
from bridge.store import Store, schema


def add_commands(commands: Any) -> None:
    """Register ``run`` and ``db``."""
    run = commands.add_parser(
        "run",
        help="the service: poll Centra, retry failed events, prune old ones, until SIGTERM",
        epilog=epilog(
            "centra-bridge --config /etc/centra-bridge/config.toml run",
            "centra-bridge --config /etc/centra-bridge/config.toml run --standby",
            codes=[ExitCode.DATABASE, ExitCode.LOCKED],
            meanings={
                ExitCode.OK: "stopped by SIGTERM or SIGINT after the work in flight",
                ExitCode.DATABASE: "the database, or the poller's lock on it, was lost",
            },
        ),
    )
    run.add_argument(
        "--standby",
        action="store_true",
        help="if another process polls this store, wait and take over when it stops",
    )
    run.set_defaults(run=_run)

    db_epilog = epilog(
        "centra-bridge --config /etc/centra-bridge/config.toml db upgrade",
        codes=[ExitCode.DATABASE],
    )
    db = commands.add_parser("db", help="database maintenance", epilog=db_epilog)
    db_commands = db.add_subparsers(
        dest="db_command", metavar="ACTION", required=True, help="what to do"
    )
    db_commands.add_parser(
        "upgrade",
        help="create the database or apply schema migrations (needs no password)",
        epilog=db_epilog,
    ).set_defaults(run=_db_upgrade)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    return daemon.run(settings, load=lambda: load_settings(args), standby=args.standby)


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args, read_password=False)
    store = Store.open(settings.database.url, migrate=False)
    try:
        before, after = schema.upgrade(store.engine)
    finally:
        store.close()
    print(f"schema {before or 'empty'} -> {after}" if before != after else f"schema at {after}")
    return ExitCode.OK

"""The ``centra-bridge`` command: parse, build Settings, call one library function, answer.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr. Each
group of commands has its module; this one assembles the parser and turns every error into
one line and an exit code, in one place.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from bridge import __version__
from bridge import config as config_module
from bridge.cli import dev, erp, events, lookup, outbox, service
from bridge.cli.bench import add_bench_command
from bridge.cli.common import fail, first_line
from bridge.errors import BridgeError, ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return ExitCode.CONFIG
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BridgeError as exc:
        return fail(exc.exit_code, exc.summary(), exc.details())
    except SQLAlchemyError as exc:
        return fail(ExitCode.DATABASE, f"database error: {first_line(exc)}")


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
    events.add_commands(commands)
    service.add_commands(commands)
    dev.add_commands(commands)
    add_bench_command(commands)
    erp.add_commands(commands)
    lookup.add_commands(commands)
    outbox.add_commands(commands)
    return parser

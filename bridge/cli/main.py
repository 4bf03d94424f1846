"""The ``centra-bridge`` command: parse, build Settings, call one library function, answer.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr. Each
group of commands has its module; this one assembles the parser and turns every error into
one line and an exit code, in one place.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

import argcomplete
from sqlalchemy.exc import SQLAlchemyError

from bridge import __version__
from bridge import config as config_module
from bridge.cli import dev, erp, events, lookup, outbox, service, setup, web
from bridge.cli.bench import add_bench_command
from bridge.cli.common import epilog, fail, first_line
from bridge.errors import BridgeError, ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argcomplete.autocomplete(parser)  # answers a shell's completion request, then exits
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return ExitCode.CONFIG
    try:
        code = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit as an ignored exception
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BridgeError as exc:
        return fail(exc.exit_code, exc.summary(), exc.details())
    except SQLAlchemyError as exc:
        return fail(ExitCode.DATABASE, f"database error: {first_line(exc)}")


def _reader_went_away() -> int:
    """``centra-bridge ids list | head``: the reader has what it wanted; end quietly.

    stdout is pointed at /dev/null so the interpreter's last flush cannot fail again (the
    recipe of Python's signal module documentation).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.BROKEN_PIPE


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command, each taking the global options too."""
    parser = argparse.ArgumentParser(
        prog="centra-bridge",
        description="Connects a legacy ERP with Centra over its SOAP API.",
        epilog=epilog(
            "centra-bridge --config /etc/centra-bridge/config.toml config check",
            "centra-bridge status --config /etc/centra-bridge/config.toml",
            "centra-bridge COMMAND --help",
            codes=list(ExitCode),
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to do")
    events.add_commands(commands)
    service.add_commands(commands)
    setup.add_commands(commands)
    dev.add_commands(commands)
    add_bench_command(commands)
    erp.add_commands(commands)
    lookup.add_commands(commands)
    outbox.add_commands(commands)
    web.add_commands(commands)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for sub in subparsers(parser):
        # SUPPRESS: an option left out after the command keeps the value given before it.
        _add_global_options(sub, argparse.SUPPRESS)
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _add_global_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help=f"TOML configuration (default: ${config_module.CONFIG_ENV})",
    )
    group.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=default,
        help="log this much on stderr (default: [logging] level, else info)",
    )
    group.add_argument(
        "--log-format",
        choices=("auto", "json", "console"),
        default=default,
        help="auto: readable on a terminal, JSON lines otherwise (default: [logging] format)",
    )


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's parser, nested ones (``ids list``) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield sub
                yield from subparsers(sub)

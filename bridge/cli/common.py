"""What every ``centra-bridge`` command does alike: argument types, settings, logging, answers.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import structlog

from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.app import App
from bridge.config import Settings
from bridge.errors import ExitCode

log = structlog.get_logger(__name__)

#: What each exit code means, as every ``--help`` lists it (README "Exit codes" agrees).
EXIT_MEANINGS: Mapping[ExitCode, str] = {
    ExitCode.OK: "done",
    ExitCode.INTERNAL: "unexpected error (the traceback is in the log)",
    ExitCode.CONFIG: "bad command line or configuration; nothing was done",
    ExitCode.AUTH: "Centra refused the username or password",
    ExitCode.UNAVAILABLE: "Centra unreachable, timed out, or answered HTTP 5xx",
    ExitCode.CENTRA_ERROR: "Centra answered with a SOAP Fault or a malformed answer",
    ExitCode.PARTIAL: "partial: some of the work was done, some not",
    ExitCode.DATABASE: "the bridge's database is missing or cannot be used",
    ExitCode.LOCKED: "another run or drain-events already polls this store",
    ExitCode.STALE: "the last successful poll is older than allowed, or there was none",
    ExitCode.INTERRUPTED: "stopped by Ctrl-C",
    ExitCode.BROKEN_PIPE: "the reader of the answer went away (a pipe into head)",
}


#: How a command that talks to Centra can end besides 0 and 2.
CENTRA_CODES = (ExitCode.AUTH, ExitCode.UNAVAILABLE, ExitCode.CENTRA_ERROR)


def epilog(
    *examples: str,
    codes: Sequence[ExitCode] = (),
    meanings: Mapping[ExitCode, str] | None = None,
) -> str:
    """The end of a command's ``--help``: examples, then the exit codes it can end with
    (0 and 2 always; ``meanings`` says what one means for this command in particular)."""
    meaning = {**EXIT_MEANINGS, **(meanings or {})}
    lines = ["examples:", *(f"  {example}" for example in examples), "", "exit codes:"]
    lines += [
        f"  {int(code):>3}  {meaning[code]}"
        for code in sorted({ExitCode.OK, ExitCode.CONFIG, *codes})
    ]
    return "\n".join(lines)


def fail(code: int, message: str, details: Sequence[str] = ()) -> int:
    """One line on stderr (after any detail lines), then the exit code: errors a person
    reads, not a traceback."""
    for line in details:
        print(f"centra-bridge: {line}", file=sys.stderr)
    print(f"centra-bridge: {first_line(message)}", file=sys.stderr)
    return code


def first_line(value: object) -> str:
    """The first line of an error (drivers' messages run on with SQL and hints)."""
    return str(value).strip().splitlines()[0] if str(value).strip() else type(value).__name__


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time (e.g. 2026-11-26 or 2026-11-26T08:00)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_settings(args: argparse.Namespace, *, read_password: bool = True) -> Settings:
    """The configuration, with logging set up from it; ``read_password=False`` for commands
    that never call Centra (a missing or unreadable password then stops nothing)."""
    settings = config_module.load_settings(args.config, read_password=read_password)
    configure_logging(args, settings)
    password = settings.centra.password.reveal()
    if read_password and len(password) < bridge_logging.MIN_ADVISED_SECRET:
        log.warning(
            "the Centra password is short; it is masked wherever it appears in logs and "
            "messages, which can mangle them: use a longer one",
            advised_min_chars=bridge_logging.MIN_ADVISED_SECRET,
        )
    return settings


@contextmanager
def reading(args: argparse.Namespace) -> Iterator[App]:
    """The App of a command that only reads (``status``, ``ids list``, listings).

    It needs no password and imports no site code, and it never creates or migrates a
    database: a missing one is one line naming it (exit 7). Which database is read goes to
    stderr, so ``--json`` on stdout stays pure JSON.
    """
    settings = load_settings(args, read_password=False)
    with App.open(settings, read_only=True) as app:
        print(f"centra-bridge: reading {app.store.name}", file=sys.stderr)
        yield app


def configure_logging(args: argparse.Namespace, settings: Settings | None) -> None:
    level = args.log_level or (settings.logging.level if settings else "info")
    fmt = args.log_format or (settings.logging.format if settings else "auto")
    secrets = [settings.centra.password.reveal()] if settings else []
    bridge_logging.configure(
        level, fmt, secrets, config_module.journal_stream(), no_color=config_module.no_color()
    )


def answer(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)

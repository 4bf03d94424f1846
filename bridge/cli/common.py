"""What every ``centra-bridge`` command does alike: argument types, settings, logging, answers.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
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
from bridge.store.lock import for_database, held

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
    graphql = settings.centra.flavor == config_module.GRAPHQL
    secret = settings.centra.token if graphql else settings.centra.password
    if read_password and len(secret.reveal()) < bridge_logging.MIN_ADVISED_SECRET:
        log.warning(
            f"the Centra {'token' if graphql else 'password'} is short; it is masked wherever "
            "it appears in logs and messages, which can mangle them: use a longer one",
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
    secrets = (
        [settings.centra.password.reveal(), settings.centra.token.reveal()] if settings else []
    )
    bridge_logging.configure(
        level, fmt, secrets, config_module.journal_stream(), no_color=config_module.no_color()
    )


def answer(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)


def answer_masked(
    args: argparse.Namespace, settings: Settings, data: dict[str, Any], text: str
) -> None:
    """``answer`` with every secret the bridge knows masked, and credentials in URLs: what
    a lookup shows was stored masked, but a handler's error message could quote anything."""
    redactor = bridge_logging.Redactor([settings.centra.password.reveal()])
    answer(args, dict(redactor(None, "answer", data)), redactor.scrub(text))


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def who() -> str:
    """The OS user running the command, kept with what they did by hand."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def when(moment: datetime | str | None) -> str:
    """A moment for people: UTC to the second (``-`` for none)."""
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def clip(text: str | None, width: int) -> str:
    """One line of at most ``width`` characters (``-`` for none); the JSON keeps it whole."""
    line = " ".join((text or "-").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def more_line(more: int, offset: int, shown: int) -> list[str]:
    """The "N more" line under a cut list, with how to see them."""
    if not more:
        return []
    return [f"… {more} more (--offset {offset + shown} shows the next ones)"]


def service_note(url: str, work: str) -> str:
    """Who will do ``work`` ("handles them"): the process holding the store's lock, or, when
    none does, how to start one. Commands that change state by hand leave the work to it.

    Finding out takes the lock for an instant when it is free, as ``push`` does.
    """
    with held(url, required=False) as taken:
        if taken is not None:
            return (
                "no service holds this store's lock: start `centra-bridge run` (or run "
                f"`centra-bridge drain-events`), which {work}"
            )
    other = for_database(url)
    try:
        holder = other.holder()
    finally:
        other.release()
    return f"the service holding this store's lock ({holder or other.where}) {work}"

"""What every ``centra-bridge`` command does alike: argument types, settings, logging, answers.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.config import Settings

log = structlog.get_logger(__name__)


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


def load_settings(args: argparse.Namespace) -> Settings:
    settings = config_module.load_settings(args.config)
    configure_logging(args, settings)
    graphql = settings.centra.flavor == config_module.GRAPHQL
    secret = settings.centra.token if graphql else settings.centra.password
    if len(secret.reveal()) < bridge_logging.MIN_ADVISED_SECRET:
        log.warning(
            f"the Centra {'token' if graphql else 'password'} is short; it is masked wherever "
            "it appears in logs and messages, which can mangle them: use a longer one",
            advised_min_chars=bridge_logging.MIN_ADVISED_SECRET,
        )
    return settings


def configure_logging(args: argparse.Namespace, settings: Settings | None) -> None:
    level = args.log_level or (settings.logging.level if settings else "info")
    fmt = args.log_format or (settings.logging.format if settings else "auto")
    secrets = (
        [settings.centra.password.reveal(), settings.centra.token.reveal()] if settings else []
    )
    bridge_logging.configure(level, fmt, secrets, config_module.journal_stream())


def answer(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)

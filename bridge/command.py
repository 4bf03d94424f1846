"""What every ``centra-bridge`` command does alike: settings, logging, locks, signals, answers.

Answers (summary lines, tables, ``--json``) go to stdout; logs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import structlog

from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.app import App
from bridge.config import Settings
from bridge.lock import LockHeld, StoreLock, for_database

log = structlog.get_logger(__name__)


def fail(code: int, message: str) -> int:
    """One line on stderr, then the exit code: errors a person reads, not a traceback."""
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
    settings = config_module.load(config_module.config_path(args.config))
    configure_logging(args, settings)
    return settings


def configure_logging(args: argparse.Namespace, settings: Settings | None) -> None:
    level = args.log_level or (settings.logging.level if settings else "info")
    fmt = args.log_format or (settings.logging.format if settings else "auto")
    secrets = [settings.centra.password.reveal()] if settings else []
    bridge_logging.configure(level, fmt, secrets, config_module.journal_stream())


@contextmanager
def opened(settings: Settings) -> Iterator[App]:
    app = App.open(settings)
    try:
        yield app
    finally:
        app.close()


@contextmanager
def store_lock(settings: Settings) -> Iterator[StoreLock]:
    """One poller per store: a drain does not run beside ``run`` or another drain."""
    lock = for_database(settings.database.url)
    if not lock.acquire():
        raise LockHeld(lock)
    try:
        yield lock
    finally:
        lock.release()


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
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


def answer(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)

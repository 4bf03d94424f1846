"""Time as the bridge sees it: the one clock, and how long work tells how far it is.

Every timestamp the bridge stores is an aware UTC time from ``utcnow``. Parts that need time
take a ``clock`` argument defaulting to ``utcnow``, so tests pass their own. Long work (drain,
dispatch, replay, push, the simulator's start) takes a ``progress`` callable the same way,
defaulting to ``no_progress``; the command line decides what to show (``bridge.cli.progress``),
and the core never imports the command line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


def utcnow() -> datetime:
    """Now, in UTC, with its time zone attached."""
    return datetime.now(UTC)


class Progress(Protocol):
    """Called as work advances: ``phase`` in the user's words ("handling events"), ``done``
    counted from the start of that phase, ``total`` when it is known."""

    def __call__(self, phase: str, done: int, total: int | None = None) -> None: ...


def no_progress(phase: str, done: int, total: int | None = None) -> None:
    """The default: nobody is watching."""

"""How long work tells its caller how far it is: one plain callable, no display.

The core (drain, dispatch, replay, push, the simulator) calls it with a phase, how many items
that phase has done and, when known, how many it will do; the command line decides what to
show (``bridge.cli.progress``). The core never imports the command line.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: ``phase`` in the user's words ("handling events"), ``done``
    counted from the start of that phase, ``total`` when it is known."""

    def __call__(self, phase: str, done: int, total: int | None = None) -> None: ...


def no_progress(phase: str, done: int, total: int | None = None) -> None:
    """The default: nobody is watching."""

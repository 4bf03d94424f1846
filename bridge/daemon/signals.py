"""One signal behaviour for every command that works until it is told to stop.

The first SIGTERM or SIGINT sets ``stop``: the page or batch in flight is finished (stored
and acknowledged, or its answer recorded) and nothing new starts. A second one exits at once
with 128 + the signal's number, for a person who does not want to wait. SIGHUP, where a
command reloads (``run``), sets ``reload``. A handler only sets an event and logs one line;
it never raises into an open transaction.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import structlog

log = structlog.get_logger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Control:
    """What the signal handlers may touch: two events and the name of the stop signal."""

    stop: threading.Event = field(default_factory=threading.Event)
    reload: threading.Event = field(default_factory=threading.Event)
    signal_name: str = ""


@contextmanager
def handled(*, reload: bool = False) -> Iterator[Control]:
    """Install the handlers for the duration of a command; the previous ones come back."""
    control = Control()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if control.stop.is_set():
            os.write(2, b"centra-bridge: second stop signal; exiting now\n")
            os._exit(128 + signum)
        control.signal_name = signal.Signals(signum).name
        control.stop.set()
        # Should the signal interrupt a write to stderr, the buffered stream refuses a
        # reentrant one: the line is lost, the stop itself is already set.
        with contextlib.suppress(RuntimeError):
            log.info(
                "stop requested; finishing the work in flight (a second signal exits at once)",
                signal=control.signal_name,
            )

    def request_reload(_signum: int, _frame: FrameType | None) -> None:
        control.reload.set()

    handlers: dict[signal.Signals, Callable[[int, FrameType | None], None]] = {
        sig: request_stop for sig in _STOP_SIGNALS
    }
    if reload:
        handlers[signal.SIGHUP] = request_reload
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield control
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

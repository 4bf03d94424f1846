"""Progress of long commands on stderr: redrawn in place on a terminal, a log line otherwise.

On a terminal one line shows the phase, counts and rate, redrawn at most ten times a second
and erased at the end, so the answer on stdout reads as before. Off a terminal (a pipe, a
file, the journal) a log line with cumulative counts comes every ``LOG_EVERY_S`` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import structlog

log = structlog.get_logger(__name__)

#: Off a terminal, one progress line per this many seconds at most.
LOG_EVERY_S = 5.0
#: On a terminal, the line is redrawn at most this often.
REDRAW_EVERY_S = 0.1


class Reporter:
    """A ``bridge.clock.Progress`` that shows itself on ``stream``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        terminal: bool,
        clock: Callable[[], float] = time.monotonic,
        log_every_s: float = LOG_EVERY_S,
    ) -> None:
        self._stream = stream
        self._terminal = terminal
        self._clock = clock
        self._every_s = REDRAW_EVERY_S if terminal else log_every_s
        self._phase = ""
        self._phase_started = 0.0
        # Off a terminal the first line waits too: work done in seconds needs no progress.
        self._shown_at = -float("inf") if terminal else clock()
        self._drawn = False

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        now = self._clock()
        if phase != self._phase:
            self._phase, self._phase_started = phase, now
        finished = total is not None and done >= total
        if now - self._shown_at < self._every_s and not (finished and self._terminal):
            return
        self._shown_at = now
        elapsed_s = now - self._phase_started
        rate = done / elapsed_s if elapsed_s > 0 else None
        if self._terminal and finished:
            self.close()  # a finished phase leaves the line to what comes next
        elif self._terminal:
            self._draw(line(phase, done, total, rate))
        else:
            log.info(
                "progress",
                phase=phase,
                done=done,
                total=total,
                per_s=round(rate, 1) if rate is not None else None,
            )

    def _draw(self, text: str) -> None:
        # The cursor goes back to the start: a log line written next covers this one.
        self._stream.write(f"\r\x1b[K{text}\r")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line on a terminal, so what follows starts on a clean one."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False


def line(phase: str, done: int, total: int | None, rate: float | None) -> str:
    """``handling events: 4,200 of 20,000 (21 %), 812/s``."""
    counts = f"{done:,}" if total is None else f"{done:,} of {total:,}"
    share = f" ({100 * done // total} %)" if total else ""
    speed = f", {rate:,.0f}/s" if rate is not None else ""
    return f"{phase}: {counts}{share}{speed}"


@contextmanager
def reporting(stream: TextIO = sys.stderr) -> Iterator[Reporter]:
    """A reporter for one command, its line erased however the command ends."""
    reporter = Reporter(stream, terminal=stream.isatty())
    try:
        yield reporter
    finally:
        reporter.close()

"""What the poll loop last did: written by the jobs, read by the supervising main thread for
the watchdog and systemd's STATUS= line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Health:
    """What the poll loop last did; written by jobs, read by the supervising main thread."""

    monotonic: Callable[[], float] = time.monotonic
    progress_at: float = field(default_factory=time.monotonic)
    succeeded_at: datetime | None = None
    error: str | None = None
    backlog: int = 0
    failed: int = 0
    dead: int = 0
    #: Why the store can no longer be trusted (its file gone, the lock lost): the service stops.
    lost: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def store_lost(self, why: str) -> None:
        with self._lock:
            self.lost = why

    def progressed(self) -> None:
        with self._lock:
            self.progress_at = self.monotonic()

    def stalled_for(self) -> float:
        with self._lock:
            return self.monotonic() - self.progress_at

    def succeeded(self, at: datetime) -> None:
        with self._lock:
            self.succeeded_at, self.error = at, None
        self.progressed()

    def failed_with(self, error: str) -> None:
        with self._lock:
            self.error = error

    def counted(self, backlog: int, failed: int, dead: int) -> None:
        with self._lock:
            self.backlog, self.failed, self.dead = backlog, failed, dead

    def describe(self, now: datetime) -> str:
        """One line for systemd's STATUS= (``systemctl status`` shows it)."""
        with self._lock:
            if self.succeeded_at is None:
                last = "no successful poll yet"
            else:
                last = f"last poll ok {int((now - self.succeeded_at).total_seconds())} s ago"
            counts = f"pending {self.backlog}, failed {self.failed}, dead {self.dead}"
            return f"{last}; {counts}" + (f"; last error: {self.error}" if self.error else "")

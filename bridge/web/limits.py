"""Failed logins, counted per user name and per address: guessing a password is slowed down.

After ``MAX_FAILURES`` failures within ``WINDOW_S`` for a name or for an address, logins for
it are refused (even with the right password) until the oldest failure is that old. Kept in
memory: a restart of the console forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_FAILURES = 5
WINDOW_S = 900.0


@dataclass
class LoginLimiter:
    """Failures per key (``user:NAME``, ``address:IP``) within the window."""

    max_failures: int = MAX_FAILURES
    window_s: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _failures: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, name: str, address: str) -> bool:
        """Whether a login for ``name`` from ``address`` is refused right now."""
        now = self.clock()
        with self._lock:
            return any(
                len(self._recent(key, now)) >= self.max_failures
                for key in _keys(name, address)
                if key in self._failures
            )

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in _keys(name, address):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        """A right password clears the name's failures (the address's stay)."""
        with self._lock:
            self._failures.pop(f"user:{name}", None)

    def _recent(self, key: str, now: float) -> deque[float]:
        moments = self._failures[key]
        while moments and now - moments[0] >= self.window_s:
            moments.popleft()
        return moments


def _keys(name: str, address: str) -> tuple[str, str]:
    return f"user:{name}", f"address:{address}"

"""The one retry policy: how long to wait before the next attempt, and when to give up.

Pure arithmetic, no clock and no sleeping, so it is tested without either.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter, capped, for at most ``max_attempts`` attempts."""

    base_s: float
    max_s: float
    max_attempts: int

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.max_s < self.base_s:
            raise ValueError(f"need 0 < base_s <= max_s, got {self.base_s}, {self.max_s}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def exhausted(self, attempts: int) -> bool:
        """True once ``attempts`` failed attempts leave none to try."""
        return attempts >= self.max_attempts

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the ``attempts``-th failure (1-based).

        Jitter (half to all of the step) spreads the retries of many failed events.
        """
        ceiling = min(self.max_s, self.base_s * 2 ** max(attempts - 1, 0))
        return rng.uniform(ceiling / 2, ceiling)

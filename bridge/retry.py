"""The one retry policy: how long to wait before the next attempt, and when to give up.

No clock and no sleeping of its own (waiting is passed in), so it is tested without either.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

import structlog

from bridge.centra.errors import CentraError, CentraUnavailable

T = TypeVar("T")
log = structlog.get_logger(__name__)
#: Stored error texts are cut here; the whole error and its traceback are in the log.
MAX_ERROR_CHARS = 2000


class RetrySettings(Protocol):
    """What a settings section that configures retries carries."""

    @property
    def retry_base_s(self) -> float: ...
    @property
    def retry_max_s(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter, capped, for at most ``max_attempts`` attempts."""

    base_s: float
    max_s: float
    max_attempts: int

    @classmethod
    def of(cls, section: RetrySettings) -> RetryPolicy:
        """The policy a settings section describes (``max_attempts``, ``retry_base/max``)."""
        return cls(
            base_s=section.retry_base_s,
            max_s=section.retry_max_s,
            max_attempts=section.max_attempts,
        )

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
        ceiling = backoff_s(attempts, self.base_s, self.max_s)
        return rng.uniform(ceiling / 2, ceiling)


def backoff_s(attempts: int, base_s: float, max_s: float) -> float:
    """The back-off step after the ``attempts``-th failure (1-based): ``base_s`` doubled per
    failure, at most ``max_s``. The one formula: policies add their jitter to it."""
    return min(max_s, base_s * 2.0 ** max(attempts - 1, 0))


def call_with_retry(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    retryable: Callable[[Exception], bool],
    wait: Callable[[float], bool],
    rng: random.Random,
    on_retry: Callable[[Exception, int, float], None] = lambda exc, attempt, delay: None,
    at_least_s: Callable[[Exception], float] = lambda exc: 0.0,
) -> T:
    """Run ``call``, repeating it after a back-off while it fails with a retryable error.

    ``wait(seconds)`` sleeps and returns True if the sleep was cut short (a shutdown: give up
    at once and re-raise). Errors that are not retryable are raised on first sight. A wait is
    never shorter than ``at_least_s(error)`` (what the other side asked for) up to the
    policy's ``max_s``.
    """
    attempt = 1
    while True:
        try:
            return call()
        except Exception as exc:
            if not retryable(exc) or policy.exhausted(attempt):
                raise
            # What the other side asks for is honoured up to the policy's cap: a longer wait
            # belongs to the next poll, not to one call.
            delay = max(policy.delay_s(attempt, rng), min(at_least_s(exc), policy.max_s))
            on_retry(exc, attempt, delay)
            if wait(delay):
                raise
            attempt += 1


def call_centra(
    call: Callable[[], T],
    policy: RetryPolicy,
    *,
    stop: threading.Event | None,
    rng: random.Random,
) -> T:
    """A Centra call, repeated with back-off while Centra is unreachable or answers 5xx/429.

    Faults and answers that cannot be trusted are raised at once: repeating them blindly
    cannot help. A shutdown (``stop``) cuts a back-off short.
    """
    return call_with_retry(
        call,
        policy,
        retryable=lambda exc: isinstance(exc, CentraError) and exc.retryable,
        wait=(stop or threading.Event()).wait,
        rng=rng,
        on_retry=_log_retry,
        at_least_s=asked_for_s,
    )


def asked_for_s(exc: Exception) -> float:
    """The wait Centra asked for with ``Retry-After`` (a 429 or 503), else none."""
    return (exc.retry_after_s or 0.0) if isinstance(exc, CentraUnavailable) else 0.0


#: A ``Retry-After`` number at least this large is an epoch timestamp (2001-09-09), not a
#: delay of 31 years.
EPOCH_FROM = 1_000_000_000


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds an HTTP ``Retry-After`` asks for, or None when there is none or it cannot be
    read; never negative.

    Delta-seconds and an HTTP date, as HTTP defines it, and epoch seconds, as Centra's
    GraphQL API may send ("the timestamp of when you can resume", centra-next.md N8): a
    number past ``EPOCH_FROM`` cannot be a sensible delay and is read as a moment.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        number = float(text)
        return max(0.0, number - now.timestamp()) if number >= EPOCH_FROM else number
    try:
        until = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if until.tzinfo is None:
        return None
    return max(0.0, (until - now).total_seconds())


def _log_retry(exc: Exception, attempt: int, delay_s: float) -> None:
    log.warning(
        "centra call failed; trying again",
        error=str(exc),
        request_id=getattr(exc, "request_id", None),
        attempt=attempt,
        retry_in_s=round(delay_s, 2),
    )

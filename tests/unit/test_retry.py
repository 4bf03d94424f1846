"""The retry policy's arithmetic, without clock or sleep."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge.centra.errors import CentraUnavailable
from bridge.retry import RetryPolicy, asked_for_s, call_with_retry, parse_retry_after


def test_delay_doubles_and_is_capped() -> None:
    """Each failure roughly doubles the wait, never beyond the cap, always within jitter."""
    policy = RetryPolicy(base_s=10, max_s=100, max_attempts=10)
    rng = random.Random(7)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        for _ in range(50):
            assert ceiling / 2 <= policy.delay_s(attempts, rng) <= ceiling


def test_exhausted_after_max_attempts() -> None:
    """The attempt that reaches max_attempts is the last."""
    policy = RetryPolicy(base_s=1, max_s=1, max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)


@pytest.mark.parametrize(("base", "cap", "attempts"), [(0, 1, 1), (5, 1, 1), (1, 2, 0)])
def test_impossible_policies_are_refused(base: float, cap: float, attempts: int) -> None:
    """A policy that could never retry sensibly fails at construction."""
    with pytest.raises(ValueError):
        RetryPolicy(base_s=base, max_s=cap, max_attempts=attempts)


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Tue, 01 Dec 2026 12:00:30 GMT", 30.0),
        ("Tue, 01 Dec 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(
    header: str | None, seconds: float | None
) -> None:
    """Retry-After in either HTTP form becomes seconds from now; what cannot be read is none."""
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize(("asked_s", "waited_s"), [(45.0, 45.0), (10.0**12, 60.0)])
def test_a_retry_waits_what_centra_asked_for_up_to_the_cap(asked_s: float, waited_s: float) -> None:
    """A 429 whose Retry-After exceeds the back-off makes the wait that long, never longer
    than the policy's cap (a longer wait belongs to the next poll)."""
    failures = [CentraUnavailable("HTTP 429", status_code=429, retry_after_s=asked_s)]
    waits: list[float] = []

    def call() -> str:
        if failures:
            raise failures.pop()
        return "answered"

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    policy = RetryPolicy(base_s=1, max_s=60, max_attempts=3)
    assert call_centra_with(call, policy, wait) == "answered"
    assert waits == [waited_s]


def call_centra_with(
    call: Callable[[], str], policy: RetryPolicy, wait: Callable[[float], bool]
) -> str:
    return call_with_retry(
        call,
        policy,
        retryable=lambda exc: isinstance(exc, CentraUnavailable),
        wait=wait,
        rng=random.Random(1),
        at_least_s=asked_for_s,
    )

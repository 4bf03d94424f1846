"""The retry policy's arithmetic, without clock or sleep."""

from __future__ import annotations

import random

import pytest

from bridge.retry import RetryPolicy


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

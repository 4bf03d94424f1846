"""SIGKILL at random moments during drain-events, many times: nothing lost, nothing doubled."""

from __future__ import annotations

import random
from pathlib import Path

from crashes import crash_and_finish

from bridge.simulator import Simulator

PASSWORD = "crash-pw-6b2e"


def test_random_kills_during_drain_lose_nothing(tmp_path: Path) -> None:
    """Twelve kills in the middle of fetching, storing, acknowledging and handling."""
    with Simulator(username="erp", password=PASSWORD, seed=21) as simulator:
        simulator.add_generated(900)
        outcome = crash_and_finish(
            simulator, tmp_path, PASSWORD, kills=12, rng=random.Random(5), max_delay_s=1.2
        )
    assert outcome.kills >= 6, "most runs were killed mid-way"
    assert outcome.stored == 900
    assert outcome.stored_twice == 0
    assert outcome.unacknowledged == 0
    assert outcome.left_in_centra == 0
    assert set(outcome.statuses) <= {"handled", "ignored", "superseded"}
    assert outcome.delivered_files == outcome.orders_expected, "every order reached the ERP"
    assert outcome.doubled_files == 0
    assert outcome.lost == 0

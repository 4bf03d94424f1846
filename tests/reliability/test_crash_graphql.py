"""SIGKILL at random moments during drain-events over GraphQL: nothing lost, nothing doubled."""

from __future__ import annotations

import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

from bridge_process import bridge_command, child_env, run_bridge
from sqlalchemy import create_engine, select

from bridge.simulator.graphql import GraphqlSimulator
from bridge.store.models import StoredEvent

TOKEN = "crash-token-6b2e-graphql"
LISTEN = [
    "Account",
    "Invoice",
    "Market",
    "Pricelist",
    "ProductSize",
    "SalesRepresentative",
    "Warehouse",
]


def test_random_kills_during_graphql_drain_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    with GraphqlSimulator(token=TOKEN, seed=21) as sim:
        queued = sim.add_generated(600)
        config = tmp_path / "bridge.toml"
        listen = ", ".join(f'"{name}"' for name in LISTEN)
        config.write_text(
            f'[centra]\nflavor = "graphql"\nendpoint = "{sim.url}"\nlisten = [{listen}]\n'
            "timeout = 5\nretry_base = 0.01\nretry_max = 0.05\n"
            '[database]\nurl = "sqlite:///bridge.db"\n',
            encoding="utf-8",
        )
        env = {"CENTRA_BRIDGE_TOKEN": TOKEN}
        kills = 0
        for _ in range(8):
            child = subprocess.Popen(
                bridge_command("--config", str(config), "drain-events"),
                env=child_env(env),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                child.wait(timeout=rng.uniform(0.3, 1.5))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
        final = run_bridge("--config", str(config), "drain-events", env=env, timeout=300)
        assert final.returncode == 0, final.stderr[-2000:]
        left = sim.queue()
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(StoredEvent.event_id, StoredEvent.status, StoredEvent.acknowledged_at)
        ).all()
    engine.dispose()
    assert kills >= 3, "most runs were killed mid-way"
    ids = Counter(int(row.event_id) for row in rows)
    assert sorted(ids) == queued, "every event stored"
    assert max(ids.values()) == 1, "none stored twice"
    assert all(row.acknowledged_at is not None for row in rows)
    assert left == []
    assert {row.status for row in rows} <= {"handled", "ignored", "superseded"}

"""SIGKILL at random moments during push, many times: every ERP update reaches Centra."""

from __future__ import annotations

import json
import random
import signal
import subprocess
from pathlib import Path

from bridge_process import bridge_command, child_env, run_bridge, write_config

from bridge.simulator import Fault, FaultPlan, Simulator

PASSWORD = "push-crash-pw-5e1a"


def test_random_kills_during_push_lose_nothing(tmp_path: Path) -> None:
    """Ten kills while 400 products go out in batches, with some 503s; then one clean run."""
    rng = random.Random(3)
    updates = tmp_path / "products.jsonl"
    updates.write_text(
        "".join(
            json.dumps(
                {
                    "type": "product",
                    "id": f"P{n:04}",
                    "sku": f"SKU{n}",
                    "description": f"Product {n}",
                }
            )
            + "\n"
            for n in range(400)
        ),
        encoding="utf-8",
    )
    with Simulator(username="erp", password=PASSWORD, seed=4) as simulator:
        simulator.inject(FaultPlan([Fault("http-503", ("products_Update",), rate=0.1)]))
        config = str(
            write_config(tmp_path, simulator.url, PASSWORD, extra="[outbox]\nbatch_size = 10\n")
        )
        queued = run_bridge("--config", config, "push", "--queue-only", str(updates))
        assert queued.returncode == 0, queued.stderr
        kills = 0
        for _ in range(10):
            child = subprocess.Popen(
                bridge_command("--config", config, "push"),
                env=child_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                child.wait(timeout=rng.uniform(0.3, 1.5))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
        final = run_bridge("--config", config, "push", "--retry")
        status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
        products = simulator.products
    assert kills >= 3, "several pushes were killed mid-way"
    assert final.returncode == 0, final.stderr
    assert status["outbox"]["by_status"] == {"sent": 400}, "queued once, all sent"
    assert sorted(products) == [f"P{n:04}" for n in range(400)]
    assert all(products[f"P{n:04}"]["sku"] == f"SKU{n}" for n in range(400))

"""``events retry`` beside the service: the CLI only makes events due, ``run`` handles them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from daemon_harness import WAIT_S, Daemon, bridge, write_config
from erp_double import ERP_DOWN_ENV

from bridge.errors import ExitCode
from bridge.simulator import Simulator

PASSWORD = "pw-retry-8d2a-never-print-me"


def order_events(config: Path) -> list[dict[str, Any]]:
    shown = bridge(config, "events", "show", "order", "1003", "--json")
    assert shown.returncode == ExitCode.OK, shown.stderr
    events: list[dict[str, Any]] = json.loads(shown.stdout)["events"]
    return events


def test_the_service_handles_a_dead_event_retried_by_hand(tmp_path: Path) -> None:
    """Given run with an ERP that is down, order 1003 ends dead; once the ERP is back,
    events retry --status dead names the service, which handles the event on its own."""
    down = tmp_path / "erp-down"
    down.touch()
    extra = '[handlers]\nmax_attempts = 1\n[handlers.custom]\norder = "erp_double:flaky_order"\n'
    with Simulator(username="erp", password=PASSWORD, seed=9) as simulator:
        simulator.add_event("order", {"id": "1003", "status": "confirmed"}, mission="insert")
        config = write_config(tmp_path, simulator.url, PASSWORD, extra=extra)
        daemon = Daemon(config, env={ERP_DOWN_ENV: str(down)})
        try:
            daemon.wait_log(lambda line: "handler failed" in line)
            assert [e["status"] for e in order_events(config)] == ["dead"]

            down.unlink()
            retried = bridge(config, "events", "retry", "--status", "dead")
            assert retried.returncode == ExitCode.OK, retried.stderr
            assert retried.stdout.startswith("1 event due again, attempts reset; the service")
            assert f"pid {daemon.process.pid}" in retried.stdout

            deadline = time.monotonic() + WAIT_S
            while (events := order_events(config))[0]["status"] != "handled":
                assert time.monotonic() < deadline, daemon.output()
            assert (events[0]["attempts"], events[0]["error"]) == (1, None)
            assert events[0]["note"].startswith("retried by ")
        finally:
            code = daemon.stop()
    assert code == ExitCode.OK, daemon.output()
    assert "retry failed" not in daemon.output(), "the retry job itself never failed"

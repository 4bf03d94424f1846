"""Queueing one large ERP file: peak memory of ``push --queue-only FILE`` at two sizes.

Each size runs in its own child process on a fresh SQLite file, as a person runs it, so the
peak resident set (from ``wait4``) is that command's alone. Reading the file a line at a
time keeps the peak flat in the file's size; reading it whole grew it by the file's size
several times over.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.config import PASSWORD_ENV


@dataclass(frozen=True, slots=True)
class InputRun:
    """One ``push --queue-only`` of a file of ``records`` stock updates."""

    records: int
    file_mb: float
    peak_rss_mb: float
    wall_s: float


def run_input(folder: Path, records: int) -> InputRun:
    """Write a file of ``records`` product updates and queue it in a child process."""
    work = folder / f"input-{records}"
    work.mkdir()
    updates = work / "stock.jsonl"
    with updates.open("w", encoding="utf-8") as file:
        for number in range(records):
            file.write(json.dumps(_record(number)) + "\n")
    config = work / "bridge.toml"
    config.write_text(
        '[centra]\nendpoint = "http://127.0.0.1:9/soap"\nusername = "bench"\n'
        '[database]\nurl = "sqlite:///bridge.db"\n',
        encoding="utf-8",
    )
    env = {**os.environ, PASSWORD_ENV: secrets.token_urlsafe(16)}
    command = [sys.executable, "-m", "bridge", "--config", str(config), "--log-level", "error"]
    started = time.perf_counter()
    child = subprocess.Popen(
        [*command, "push", "--queue-only", str(updates)], env=env, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"bench: push --queue-only of {records:,} records exited {status}")
    return InputRun(
        records=records,
        file_mb=updates.stat().st_size / 1e6,
        peak_rss_mb=usage.ru_maxrss / 1024,
        wall_s=time.perf_counter() - started,
    )


def _record(number: int) -> dict[str, object]:
    """A product's stock and status, about the size of a line of an ERP's nightly export."""
    return {
        "type": "product",
        "id": f"P{number:07d}",
        "sku": f"{number:07d}",
        "status": "active",
        "variations": [{"id": f"P{number:07d}-1", "sizes": [{"id": "M", "ean": "7300001"}]}],
    }

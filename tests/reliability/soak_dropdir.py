"""A hostile drop directory under ``run``: files that hang, point elsewhere, or change.

Each round starts ``run`` with a drop directory and drops good files (written under another
name, then renamed, as the ERP should), files written in place, and hostile ones: a FIFO, a
symlink to a secret file, a symlink to ``/dev/zero``, a directory named ``*.jsonl``, bad
UTF-8, a bad line. ``run`` is SIGKILLed and restarted at random moments, then stopped with
SIGTERM. A last ``push`` finishes what a kill left in ``work/``. Then every good record must
be queued exactly once, a file written in place queued whole or not at all, every hostile
file rejected with its ``.error``, no ``.error`` quoting the secret, and no stop hung.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bridge_process import bridge_command, child_env, run_bridge, write_config
from sqlalchemy import create_engine, select

from bridge.simulator import Simulator
from bridge.store.models import OutboxRecord

PASSWORD = "soak-dropdir-pw-7e0b"
SECRET = "TOP-SECRET-3f9c"
#: A SIGTERM must end ``run`` within this many seconds.
STOP_LIMIT_S = 30.0


@dataclass
class DropOutcome:
    rounds: int = 0
    kills: int = 0
    good_files: int = 0
    good_records: int = 0
    hostile_files: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    queued_twice: int = 0
    #: Good records never queued, plus files written in place that were queued in part.
    lost: int = 0
    leaked: int = 0
    hangs: int = 0


def run_dropdir_soak(rounds: int, kills: int, rng: random.Random) -> DropOutcome:
    outcome = DropOutcome()
    for number in range(rounds):
        with (
            tempfile.TemporaryDirectory() as folder,
            Simulator(username="erp", password=PASSWORD, seed=number) as simulator,
        ):
            _round(Path(folder), simulator, number, kills, rng, outcome)
        outcome.rounds += 1
    return outcome


def _round(
    work: Path,
    simulator: Simulator,
    number: int,
    kills: int,
    rng: random.Random,
    outcome: DropOutcome,
) -> None:
    drop = work / "drop"
    drop.mkdir()
    secret = work / "secret.jsonl"
    secret.write_text(json.dumps({"type": "customer", "id": SECRET}) + "\n", encoding="utf-8")
    config = write_config(
        work,
        simulator.url,
        PASSWORD,
        f'[schedule]\npoll = 60\npush = 0.2\n[outbox]\ndirectory = "{drop}"\nsettle = 0.5\n',
    )
    expected: set[str] = set()
    in_place: list[set[str]] = []
    child = _start(config)
    for step in range(12):
        kind = rng.choice(("good", "good", "good", "in-place", "hostile"))
        name = f"r{number}-s{step}"
        if kind == "good":
            expected |= _drop_good(drop, name, rng.randint(1, 400))
            outcome.good_files += 1
        elif kind == "in-place":
            in_place.append(_write_in_place(drop, name, rng))
        else:
            outcome.kinds[_drop_hostile(drop, name, secret, rng)] += 1
            outcome.hostile_files += 1
        time.sleep(rng.uniform(0.0, 0.4))
        if outcome.kills < kills * (number + 1) and rng.random() < kills / 12:
            child.send_signal(signal.SIGKILL)
            child.wait()
            outcome.kills += 1
            child = _start(config)
    time.sleep(1.5)
    outcome.hangs += _stop(child)
    final = run_bridge("--config", str(config), "push", timeout=120)
    if final.returncode not in (0, 6):
        raise AssertionError(f"the last push failed: {final.stderr[-2000:]}")
    queued = _queued(work / "bridge.db")
    outcome.good_records += len(expected)
    outcome.lost += len(expected - set(queued))
    outcome.lost += sum(1 for ids in in_place if 0 < len(ids & set(queued)) < len(ids))
    outcome.queued_twice += sum(1 for count in queued.values() if count > 1)
    failed = drop / "failed"
    errors = list(failed.glob("*.error"))
    outcome.rejected += sum(
        1 for error in errors if not error.read_text(encoding="utf-8").count("changed while")
    )
    outcome.leaked += sum(1 for error in errors if SECRET in error.read_text(encoding="utf-8"))


def _drop_good(drop: Path, name: str, count: int) -> set[str]:
    ids = {f"{name}-{n}" for n in range(count)}
    part = drop / f"{name}.jsonl.part"
    part.write_text(
        "".join(json.dumps({"type": "customer", "id": i, "firstname": "Ada"}) + "\n" for i in ids),
        encoding="utf-8",
    )
    os.utime(part, (time.time() - 5, time.time() - 5))
    part.rename(drop / f"{name}.jsonl")
    return ids


def _write_in_place(drop: Path, name: str, rng: random.Random) -> set[str]:
    """An ERP writing ``*.jsonl`` itself, in two bursts less than ``settle`` apart (a writer
    that pauses for longer than ``settle`` cannot be told from one that has finished)."""
    ids = [f"{name}-{n}" for n in range(rng.randint(2, 300))]
    lines = [json.dumps({"type": "customer", "id": i, "lastname": "Lovelace"}) + "\n" for i in ids]
    half = len(lines) // 2
    with (drop / f"{name}.jsonl").open("w", encoding="utf-8") as file:
        file.write("".join(lines[:half]))
        file.flush()
        time.sleep(rng.uniform(0.05, 0.4))
        file.write("".join(lines[half:]))
    return set(ids)


def _drop_hostile(drop: Path, name: str, secret: Path, rng: random.Random) -> str:
    kind = rng.choice(("fifo", "symlink-secret", "symlink-dev-zero", "directory", "latin-1", "bad"))
    path = drop / f"{name}.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-secret":
        path.symlink_to(secret)
    elif kind == "symlink-dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "latin-1":
        path.write_bytes('{"type": "customer", "id": "Sjöberg"}\n'.encode("latin-1"))
    else:
        path.write_text(
            json.dumps({"type": "customer", "id": "X", "firstname": 7}) + "\n", encoding="utf-8"
        )
    return kind


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        bridge_command("--config", str(config), "run"),
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(child: subprocess.Popen[bytes]) -> int:
    """SIGTERM; 1 if ``run`` did not end within STOP_LIMIT_S (then SIGKILL), else 0."""
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=STOP_LIMIT_S)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait()
        return 1
    return 0


def _queued(database: Path) -> Counter[str]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        ids = Counter(connection.scalars(select(OutboxRecord.erp_id)))
    engine.dispose()
    return ids

"""Soak: many SIGKILLs and injected faults over a large queue, then count what was lost.

Run it for longer than the test suite does and read the summary it prints, e.g.::

    .venv/bin/python tests/reliability/soak.py --events 5000 --kills 60 --fault-rate 0.1
    .venv/bin/python tests/reliability/soak.py --mode storage --rounds 12 --events 2000
    .venv/bin/python tests/reliability/soak.py --mode dropdir --rounds 6 --kills 3

Exit code 0 means nothing was lost and nothing was stored or delivered twice.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from crashes import crash_and_finish
from soak_dropdir import run_dropdir_soak
from soak_storage import run_storage_soak

from bridge.simulator import Fault, FaultPlan, Simulator

PASSWORD = "soak-pw-0f3a"
#: Trouble the bridge is expected to ride out on its own (retried, or re-acknowledged).
TRANSIENT = ("http-500", "http-502", "http-503", "http-429", "reset", "latency", "done-lost")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--fault-rate", type=float, default=0.05, help="per fault kind and call")
    parser.add_argument("--max-delay", type=float, default=1.5, help="seconds before a kill")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--mode",
        choices=("kills", "storage", "dropdir"),
        default="kills",
        help="kills: SIGKILLs and Centra faults; storage: the store deleted, the disk full "
        "(root for the tmpfs); dropdir: hostile files in the drop directory under run",
    )
    parser.add_argument("--rounds", type=int, default=8, help="storage and dropdir rounds")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.mode == "storage":
        return _storage(args.rounds, args.events, rng)
    if args.mode == "dropdir":
        return _dropdir(args.rounds, args.kills, rng)
    plan = FaultPlan(
        [
            Fault(kind, rate=args.fault_rate, delay_s=0.2 if kind == "latency" else None)
            for kind in TRANSIENT
        ],
        seed=args.seed,
    )
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as workdir,
        Simulator(username="erp", password=PASSWORD, seed=args.seed) as simulator,
    ):
        simulator.add_generated(args.events)
        simulator.inject(plan)
        outcome = crash_and_finish(
            simulator,
            Path(workdir),
            PASSWORD,
            kills=args.kills,
            rng=rng,
            max_delay_s=args.max_delay,
        )
    faults = sum(plan.fired.values())
    print(f"events queued        {outcome.events_queued}")
    print(f"events stored        {outcome.stored} (stored twice: {outcome.stored_twice})")
    print(
        f"acknowledged         {outcome.stored - outcome.unacknowledged}, "
        f"left in Centra's queue: {outcome.left_in_centra}"
    )
    print(f"statuses             {dict(sorted(outcome.statuses.items()))}")
    print(
        f"orders delivered     {outcome.delivered_files} of {outcome.orders_expected} "
        f"(handler calls repeated after a kill: {outcome.redelivered_calls})"
    )
    print(f"kills survived       {outcome.kills}")
    print(
        f"faults injected      {faults} "
        + ", ".join(f"{kind}={n}" for kind, n in sorted(plan.fired.items()))
    )
    duplicated = outcome.stored_twice + outcome.doubled_files
    print(
        f"lost = {outcome.lost}, duplicated = {duplicated}, "
        f"minutes = {(time.monotonic() - started) / 60:.1f}"
    )
    ok = outcome.lost == 0 and duplicated == 0 and not outcome.unacknowledged
    return 0 if ok and not outcome.left_in_centra else 1


def _storage(rounds: int, events: int, rng: random.Random) -> int:
    started = time.monotonic()
    outcome = run_storage_soak(rounds, events, rng)
    print(f"store deleted mid-drain  {outcome.deleted_rounds} rounds")
    print(
        f"disk full              {outcome.full_rounds} rounds "
        f"({outcome.full_mid_drain} while the drain ran)"
    )
    print(f"acknowledged after the store was deleted: {outcome.acknowledged_after_deletion}")
    print(f"acknowledged but not stored (full disk):  {outcome.acknowledged_not_stored}")
    print(f"left in Centra's queue after recovery:    {outcome.left_in_centra}")
    print(f"unexpected exits         {outcome.wrong_exits or 'none'}")
    print(
        f"lost = {outcome.lost}, duplicated = {outcome.stored_twice}, "
        f"minutes = {(time.monotonic() - started) / 60:.1f}"
    )
    ok = not (outcome.lost or outcome.stored_twice or outcome.wrong_exits)
    return 0 if ok and not outcome.left_in_centra else 1


def _dropdir(rounds: int, kills: int, rng: random.Random) -> int:
    started = time.monotonic()
    outcome = run_dropdir_soak(rounds, kills, rng)
    print(f"rounds                   {outcome.rounds} (SIGKILLs of run: {outcome.kills})")
    print(f"good files dropped       {outcome.good_files} ({outcome.good_records} records)")
    print(f"hostile files dropped    {outcome.hostile_files} {dict(sorted(outcome.kinds.items()))}")
    print(f"hostile files rejected   {outcome.rejected} (each with its .error)")
    print(f"records queued twice     {outcome.queued_twice}; never queued {outcome.lost}")
    print(f"secrets quoted in .error {outcome.leaked}; stops that hung {outcome.hangs}")
    print(
        f"lost = {outcome.lost}, duplicated = {outcome.queued_twice}, "
        f"minutes = {(time.monotonic() - started) / 60:.1f}"
    )
    ok = not (outcome.lost or outcome.queued_twice or outcome.leaked or outcome.hangs)
    return 0 if ok and outcome.rejected == outcome.hostile_files else 1


if __name__ == "__main__":
    raise SystemExit(main())

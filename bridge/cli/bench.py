"""The ``bench`` subcommand: parse its options, run the benchmark, print figures and targets."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from bridge import config as config_module
from bridge import logging as bridge_logging
from bridge.bench import (
    DEFAULT_CONSOLE_EVENTS,
    DEFAULT_EVENTS,
    DEFAULT_INPUT_RECORDS,
    DEFAULT_NAIVE_EVENTS,
    DEFAULT_RUNS,
    BenchOptions,
    run_bench,
)
from bridge.cli.common import epilog, positive_int
from bridge.errors import ExitCode

#: The PostgreSQL server the tests use; the bench uses it too when it is set.
PG_URL_ENV = "CENTRA_BRIDGE_TEST_PG_URL"


def add_bench_command(commands: Any) -> None:
    """Register ``bench`` on the ``centra-bridge`` subcommand parser."""
    bench = commands.add_parser(
        "bench",
        help="drain simulated events and compare the bridge with the floor and a naive client",
        epilog=epilog(
            "centra-bridge bench --events 20000",
            "centra-bridge bench --check --json",
            codes=[ExitCode.PARTIAL],
            meanings={ExitCode.PARTIAL: "--check: a target was missed"},
        ),
    )
    bench.add_argument(
        "--events",
        type=positive_int,
        default=DEFAULT_EVENTS,
        help=f"events the bridge drains (default {DEFAULT_EVENTS:,})",
    )
    bench.add_argument(
        "--naive-events",
        type=positive_int,
        metavar="N",
        help=f"events the naive client drains (default: --events, at most "
        f"{DEFAULT_NAIVE_EVENTS:,})",
    )
    bench.add_argument(
        "--outbox-records",
        type=int,
        default=None,
        metavar="N",
        help="records pushed for the outbox figures (0: skip)",
    )
    bench.add_argument(
        "--input-records",
        type=int,
        default=DEFAULT_INPUT_RECORDS,
        metavar="N",
        help=f"records of the large ERP file queued for the memory figure, beside one of "
        f"10,000 (default {DEFAULT_INPUT_RECORDS:,}; 0: skip)",
    )
    bench.add_argument(
        "--console-events",
        type=int,
        default=DEFAULT_CONSOLE_EVENTS,
        metavar="N",
        help=f"events in the store the web console's pages are timed on "
        f"(default {DEFAULT_CONSOLE_EVENTS:,}; 0: skip)",
    )
    bench.add_argument(
        "--pg-url",
        default=os.environ.get(PG_URL_ENV) or None,
        metavar="URL",
        help="a PostgreSQL server to drain into as well, in a database of the bench's own "
        f"(dropped afterwards); default ${PG_URL_ENV}, else SQLite only",
    )
    bench.add_argument(
        "--runs",
        type=positive_int,
        default=DEFAULT_RUNS,
        metavar="N",
        help="measure the bridge, with the floors done beside it, N times and report the "
        f"middle trial by the headline ratio; memory is read on the first (default {DEFAULT_RUNS})",
    )
    bench.add_argument("--seed", type=int, default=1, help="seed of the generated events")
    bench.add_argument("--check", action="store_true", help="exit non-zero when a target is missed")
    bench.add_argument("--json", action="store_true", help="answer with JSON")
    bench.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    bridge_logging.configure(
        args.log_level or "warning", args.log_format or "auto", no_color=config_module.no_color()
    )
    outbox = {} if args.outbox_records is None else {"outbox_records": args.outbox_records}
    options = BenchOptions(
        events=args.events,
        naive_events=args.naive_events,
        input_records=args.input_records,
        console_events=args.console_events,
        seed=args.seed,
        runs=args.runs,
        pg_url=args.pg_url,
        **outbox,
    )
    report = run_bench(options)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.render())
    return ExitCode.PARTIAL if args.check and not report.ok else ExitCode.OK

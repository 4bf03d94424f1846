"""The commands for trying the bridge without a Centra: ``simulate`` and ``demo``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bridge.cli.common import configure_logging, epilog, positive_int
from bridge.cli.demo import DEFAULT_DATABASE, run_demo
from bridge.cli.progress import reporting
from bridge.clock import Progress
from bridge.config import ConfigError
from bridge.errors import ExitCode
from bridge.simulator import (
    EVENT_DATE_FORMATS,
    EVENTS_DONE_ANSWERS,
    FAULT_KINDS,
    MERCHANT_TIMEZONE,
    Fault,
    FaultPlan,
    serve,
)
from bridge.simulator.graphql import DEFAULT_TOKEN as GRAPHQL_DEMO_TOKEN
from bridge.simulator.graphql import serve as serve_graphql


def add_commands(commands: Any) -> None:
    """Register ``simulate`` and ``demo``."""
    simulate = commands.add_parser(
        "simulate",
        help="run the bundled Centra simulator",
        epilog=epilog(
            "centra-bridge simulate --port 8765 --events 1000",
            "centra-bridge simulate --fault http-503:events_Get:0.2",
        ),
    )
    simulate.add_argument("--host", default="127.0.0.1", help="address to listen on")
    simulate.add_argument("--port", type=int, default=8765, help="port to listen on")
    simulate.add_argument("--events", type=int, default=300, help="events queued at start")
    simulate.add_argument("--seed", type=int, default=1, help="seed of the generated events")
    simulate.add_argument("--username", default="demo", help="the SOAP user it accepts")
    simulate.add_argument("--password", default="demo-password", help="that user's password")
    simulate.add_argument(
        "--flavor",
        choices=("soap", "graphql"),
        default="soap",
        help="soap: the SOAP endpoints; graphql: the GraphQL Integration API's /graphql",
    )
    simulate.add_argument(
        "--token", default=GRAPHQL_DEMO_TOKEN, help="the Bearer token (--flavor graphql)"
    )
    simulate.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[:OPS[:RATE[:TIMES]]]",
        help="inject a fault, e.g. http-503:events_Get:0.2 (repeatable; kinds: "
        + ", ".join(sorted(FAULT_KINDS))
        + ")",
    )
    simulate.add_argument("--latency", type=float, metavar="SECONDS", help="delay every answer")
    simulate.add_argument(
        "--events-done-answer",
        choices=EVENTS_DONE_ANSWERS,
        default="result",
        help="how events_Done is answered (Centra's docs show no capture of it)",
    )
    simulate.add_argument(
        "--event-dates",
        choices=EVENT_DATE_FORMATS,
        default="plain",
        help=f"event/date without a zone (captures; merchant time {MERCHANT_TIMEZONE}) "
        "or with an offset (reference)",
    )
    simulate.add_argument(
        "--no-echo-orders",
        dest="echo_orders",
        action="store_false",
        help="queue no order event after an orders_Update changed an order",
    )
    simulate.add_argument(
        "--capture-fails",
        action="store_true",
        help="refuse every capture=yes that would capture, as a payment provider may",
    )
    simulate.set_defaults(run=_simulate)

    demo = commands.add_parser(
        "demo",
        help="start the simulator, drain its events into a local SQLite file, summarise",
        epilog=epilog(
            "centra-bridge demo",
            "centra-bridge demo --events 1000 --database /tmp/try.db",
            codes=[ExitCode.PARTIAL],
            meanings={ExitCode.PARTIAL: "not every event arrived, or the queue is not empty"},
        ),
    )
    demo.add_argument("--events", type=positive_int, default=300, help="events to simulate")
    demo.add_argument("--seed", type=int, default=1, help="seed of the generated events")
    demo.add_argument(
        "--database",
        type=Path,
        default=DEFAULT_DATABASE,
        help=f"a new SQLite file (default: {DEFAULT_DATABASE}, replaced on each run)",
    )
    demo.add_argument(
        "--flavor",
        choices=("soap", "graphql"),
        default="soap",
        help="soap: over the SOAP API; graphql: over the GraphQL Integration API's events",
    )
    demo.set_defaults(run=_demo)


def _simulate(args: argparse.Namespace) -> int:
    configure_logging(args, None)
    if args.flavor == "graphql":
        if args.fault or args.latency:
            raise ConfigError("simulate --flavor graphql: --fault and --latency are SOAP only")
        serve_graphql(args.host, args.port, args.events, args.seed, args.token)
        return ExitCode.OK
    try:
        faults = [Fault.parse(spec) for spec in args.fault]
    except ValueError as exc:
        raise ConfigError(f"simulate --fault: {exc}") from None
    if args.latency:
        faults.append(Fault("latency", delay_s=args.latency))
    with reporting() as progress:
        _serve(args, faults, progress)
    return ExitCode.OK


def _serve(args: argparse.Namespace, faults: list[Fault], progress: Progress) -> None:
    serve(
        host=args.host,
        port=args.port,
        events=args.events,
        seed=args.seed,
        username=args.username,
        password=args.password,
        faults=FaultPlan(faults, seed=args.seed) if faults else None,
        events_done_answer=args.events_done_answer,
        event_dates=args.event_dates,
        echo_orders=args.echo_orders,
        capture_fails=args.capture_fails,
        progress=progress,
    )


def _demo(args: argparse.Namespace) -> int:
    configure_logging(args, None)
    return run_demo(events=args.events, seed=args.seed, database=args.database, flavor=args.flavor)

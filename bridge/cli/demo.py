"""``centra-bridge demo``: the whole Centra → store path on a laptop, nothing to configure.

Starts the bundled simulator with realistic events on loopback, drains them into a local
SQLite file with the real client, store and handlers, and checks the outcome a user cares
about: every event stored once and acknowledged, and Centra's queue empty. With
``--flavor graphql`` the same events come from the GraphQL double, over the GraphQL client.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bridge.app import App
from bridge.config import GRAPHQL, CentraSettings, ConfigError, DatabaseSettings, Secret, Settings
from bridge.errors import ExitCode
from bridge.simulator import Simulator
from bridge.simulator.data import Generator
from bridge.simulator.graphql import GraphqlSimulator
from bridge.simulator.graphql_objects import graphql_type
from bridge.store import events as repo

#: The demo's own database, replaced on every run so each run starts from an empty store.
DEFAULT_DATABASE = Path("centra-bridge-demo.db")


def run_demo(*, events: int, seed: int, database: Path, flavor: str = "soap") -> int:
    """Drain ``events`` simulated events into ``database``; exit code OK only if all arrived."""
    _fresh_database(database)
    secret = secrets.token_urlsafe(16)
    url = f"sqlite:///{database.resolve()}"
    if flavor == GRAPHQL:
        with GraphqlSimulator(token=secret, seed=seed) as graphql_sim:
            event_ids = [str(i) for i in graphql_sim.add_generated(events)]
            kinds = Counter(e.type for e in Generator(seed).generate(events))
            _queued(len(event_ids), graphql_sim.url, kinds)
            # Listen to every kind queued: unknown kinds are stored and confirmed too.
            listen = tuple(sorted({graphql_type(kind) for kind in kinds}))
            centra = CentraSettings(
                endpoint=graphql_sim.url,
                username="",
                password=Secret(""),
                flavor=GRAPHQL,
                token=Secret(secret),
                listen=listen,
            )
            return _drain(centra, url, event_ids, graphql_sim.queue, database)
    with Simulator(username="demo", password=secret, seed=seed) as simulator:
        event_ids = simulator.add_generated(events)
        _queued(len(event_ids), simulator.url, simulator.events_added)
        centra = CentraSettings(endpoint=simulator.url, username="demo", password=Secret(secret))
        return _drain(centra, url, event_ids, simulator.queue, database)


def _queued(count: int, url: str, kinds: Mapping[str, int]) -> None:
    listed = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
    print(f"simulator: {count} events queued at {url} ({listed})")


def _drain(
    centra: CentraSettings,
    url: str,
    event_ids: list[str],
    queue: Callable[[], Sequence[object]],
    database: Path,
) -> int:
    settings = Settings(centra=centra, database=DatabaseSettings(url=url), source="<demo>")
    with App.open(settings) as app:
        report = app.inbox().drain()
        with app.store.reading() as session:
            stored = repo.count_stored(session, event_ids)
            unacknowledged = repo.count_unacknowledged(session)
    left = len(queue())
    print(report.summary())
    print(
        f"check: {stored} of {len(event_ids)} events stored, {unacknowledged} unacknowledged, "
        f"{left} left in the simulator's queue; database {database}"
    )
    ok = stored == len(event_ids) and not unacknowledged and not left
    return ExitCode.OK if ok else ExitCode.PARTIAL


def _fresh_database(database: Path) -> None:
    """Replace the demo's default file; never touch a file the user named that exists."""
    if database.exists() and database != DEFAULT_DATABASE:
        raise ConfigError(f"demo: {database} exists; the demo only writes to a new file")
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)

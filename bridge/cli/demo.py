"""``centra-bridge demo``: the whole Centra → store path on a laptop, nothing to configure.

Starts the bundled simulator with realistic events on loopback, drains them into a local
SQLite file with the real client, store and handlers, and checks the outcome a user cares
about: every event stored once and acknowledged, and Centra's queue empty.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from bridge.app import App
from bridge.config import CentraSettings, ConfigError, DatabaseSettings, Secret, Settings
from bridge.errors import ExitCode
from bridge.simulator import Simulator
from bridge.store import events as repo

#: The demo's own database, replaced on every run so each run starts from an empty store.
DEFAULT_DATABASE = Path("centra-bridge-demo.db")


def run_demo(*, events: int, seed: int, database: Path) -> int:
    """Drain ``events`` simulated events into ``database``; exit code OK only if all arrived."""
    _fresh_database(database)
    password = secrets.token_urlsafe(16)
    with Simulator(username="demo", password=password, seed=seed) as simulator:
        event_ids = simulator.add_generated(events)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(simulator.events_added.items()))
        print(f"simulator: {len(event_ids)} events queued at {simulator.url} ({kinds})")
        settings = Settings(
            centra=CentraSettings(
                endpoint=simulator.url, username="demo", password=Secret(password)
            ),
            database=DatabaseSettings(url=f"sqlite:///{database.resolve()}"),
            source="<demo>",
        )
        with App.open(settings) as app:
            report = app.inbox().drain()
            with app.store.reading() as session:
                stored = repo.count_stored(session, event_ids)
                unacknowledged = repo.count_unacknowledged(session)
        left = len(simulator.queue())
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

"""The benchmark's naive client: what a first zeep-based poller does, as a yardstick.

zeep with its default settings deserialises every answer into its own objects; each event is
turned into a dict (``serialize_object``), stored and committed on its own, and acknowledged
with its own events_Done. The bridge is measured against its throughput.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zeep
from zeep.helpers import serialize_object

from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, wsdl_dir

_BINDING = f"{{{CENTRA_NS}}}CentraBinding"
#: A zeep client without a timeout can hang for good; the naive client at least sets one.
_TIMEOUT_S = 30


@dataclass(frozen=True, slots=True)
class NaiveRun:
    """What the naive client did and what it cost."""

    events: int
    seconds: float
    cpu_s: float
    events_get: int
    events_done: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def open_sqlite(path: Path) -> sqlite3.Connection:
    """A SQLite file set up as the bridge sets up its own: WAL, full sync, our own BEGIN."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE NOT NULL,"
        " type TEXT NOT NULL, payload TEXT NOT NULL)"
    )
    return db


def run_naive(url: str, username: str, password: str, database: Path) -> NaiveRun:
    """Drain the simulator at ``url`` the naive way into a fresh SQLite file."""
    client = zeep.Client(
        str(wsdl_dir() / MAIN_WSDL), transport=zeep.Transport(operation_timeout=_TIMEOUT_S)
    )
    service = client.create_service(_BINDING, url)
    login = {"username": username, "password": password}
    db = open_sqlite(database)
    gets = dones = stored = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        while True:
            answer = service.events_Get(login=login, type="all")
            gets += 1
            events = _events(answer)
            if not events:
                break
            for event in events:
                _store_one(db, event)
                service.events_Done(login=login, event=[event.id])
                dones += 1
                stored += 1
    finally:
        db.close()
    return NaiveRun(
        events=stored,
        seconds=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu_started,
        events_get=gets,
        events_done=dones,
    )


def _events(answer: Any) -> list[Any]:
    """zeep unwraps ``events/event*`` into a plain list (None for an empty page)."""
    return list(answer or [])


def _store_one(db: sqlite3.Connection, event: Any) -> None:
    payload = json.dumps(serialize_object(event, dict), default=str)
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO events (event_id, type, payload) VALUES (?, ?, ?)"
        " ON CONFLICT (event_id) DO NOTHING",
        (event.id, event.type, payload),
    )
    db.execute("COMMIT")

"""The web console on a large store: how long the overview and a filtered list take.

The store is filled straight through SQL with events as the drain keeps them (most handled,
some failed, the types in Centra's proportions), so the figure is the console's and the
store's, not the drain's. The console is served on loopback as ``centra-bridge web`` serves
it, and each page is fetched over HTTP by a logged-in operator, a few times; the figure is
the slowest of those fetches.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert

from bridge.app import App
from bridge.config import CentraSettings, DatabaseSettings, Secret, Settings, WebSettings
from bridge.store import Store
from bridge.store.models import EventStatus, StoredEvent, table_of
from bridge.web.server import ConsoleServer
from bridge.web.users import Role, Users, user_line

#: Pages fetched, in this order: (name, path).
PAGES = (
    ("overview", "/"),
    ("failed orders, first page", "/events?status=failed&type=order"),
    ("search by object id", "/events?q=1003"),
)
_TYPES = ("order", "order", "order", "customer", "customer", "product")
_FETCHES = 3
_BATCH = 5000


@dataclass(frozen=True, slots=True)
class ConsoleRun:
    events: int
    #: page name → the slowest of its fetches, seconds.
    seconds: dict[str, float]


def run_console(folder: Path, events: int) -> ConsoleRun:
    """Fill a SQLite store with ``events`` events, serve the console, time its pages."""
    database = folder / "console.db"
    settings = Settings(
        centra=CentraSettings(
            endpoint="http://127.0.0.1:9/soap", username="bench", password=Secret("-" * 16)
        ),
        database=DatabaseSettings(url=f"sqlite:///{database}"),
        source="<bench>",
    )
    store = Store.open(settings.database.url)
    try:
        _fill(store, events)
    finally:
        store.close()
    password = secrets.token_urlsafe(16)
    users = Users.parse(user_line("bench", Role.OPERATE, password), "<bench>")
    with App.open(settings, read_only=True) as app:
        server = ConsoleServer(app, WebSettings(port=0), users).start()
        try:
            with requests.Session() as http:
                _log_in(http, server.url, password)
                seconds = {
                    name: _slowest(http, server.url + path.lstrip("/")) for name, path in PAGES
                }
        finally:
            server.stop()
    return ConsoleRun(events=events, seconds=seconds)


def _fill(store: Store, count: int) -> None:
    received = datetime(2026, 11, 1, tzinfo=UTC)
    statement = insert(table_of(StoredEvent))
    for start in range(0, count, _BATCH):
        rows = []
        for number in range(start, min(start + _BATCH, count)):
            kind = _TYPES[number % len(_TYPES)]
            failed = number % 97 == 0
            at = received + timedelta(seconds=number)
            rows.append(
                {
                    "transport": "soap",
                    "event_id": str(number + 1),
                    "type": kind,
                    "entry": str(1000 + number // 3),
                    "mission": "update",
                    "centra_date": at.strftime("%Y-%m-%d %H:%M:%S"),
                    "payload_kind": kind,
                    "xml": f"<event><id>{number + 1}</id><type>{kind}</type></event>",
                    "status": EventStatus.FAILED if failed else EventStatus.HANDLED,
                    "attempts": 1,
                    "last_error": "ValueError: the ERP refused it" if failed else None,
                    "next_attempt_at": at + timedelta(hours=1) if failed else None,
                    "received_at": at,
                    "acknowledged_at": at,
                    "handled_at": None if failed else at,
                }
            )
        with store.transaction() as session:
            session.execute(statement, rows)


def _log_in(http: requests.Session, url: str, password: str) -> None:
    form = http.get(url + "login", timeout=60).text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    if found is None:
        raise RuntimeError("bench: the console's login form has no CSRF token")
    answer = http.post(
        url + "login",
        data={"user": "bench", "password": password, "csrf": found.group(1), "next": "/"},
        timeout=60,
    )
    if answer.status_code != 200 or "Log out" not in answer.text:
        raise RuntimeError(f"bench: logging in to the console failed (HTTP {answer.status_code})")


def _slowest(http: requests.Session, url: str) -> float:
    slowest = 0.0
    for _ in range(_FETCHES):
        started = time.perf_counter()
        answer = http.get(url, timeout=120)
        answer.raise_for_status()
        slowest = max(slowest, time.perf_counter() - started)
    return slowest

"""The fault tests of ``test_faults`` over Centra's GraphQL events, where they apply.

Faults injected for real into the GraphQL double: transient trouble (5xx, 429, a connection
cut mid-answer, a hang, latency) is retried and the queue still drains; answers that cannot
be trusted (``errors[]``, a refused token, broken, cut or huge JSON) are refused at once,
leave nothing stored or confirmed, and the next poll works. The XML-only faults (XXE,
entity expansion, an external DTD) have no GraphQL counterpart: JSON has no entities.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.app import App
from bridge.centra.errors import CentraAuthError, CentraFault, CentraProtocolError
from bridge.config import GRAPHQL, CentraSettings, DatabaseSettings, Secret, Settings
from bridge.inbox.drain import QueueStalled
from bridge.simulator.data import Generator
from bridge.simulator.graphql import GraphqlSimulator
from bridge.simulator.graphql_objects import graphql_type
from bridge.store.models import StoredEvent

TOKEN = "reliability-token-6b0e"
SEED = 11


@pytest.fixture
def simulator() -> Iterator[GraphqlSimulator]:
    with GraphqlSimulator(token=TOKEN, seed=SEED) as running:
        yield running


@pytest.fixture
def app(simulator: GraphqlSimulator, tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        centra=CentraSettings(
            endpoint=simulator.url,
            username="",
            password=Secret(""),
            flavor=GRAPHQL,
            token=Secret(TOKEN),
            listen=tuple(sorted({graphql_type(e.type) for e in Generator(SEED).generate(200)})),
            timeout_s=0.5,
            max_attempts=4,
            retry_base_s=0.01,
            retry_max_s=0.05,
            max_response_bytes=2 * 1024 * 1024,
        ),
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'bridge.db'}"),
    )
    opened = App.open(settings)
    try:
        yield opened
    finally:
        opened.close()


def stored(app: App) -> int:
    with app.store.transaction() as session:
        return session.scalar(select(func.count()).select_from(StoredEvent)) or 0


def calls(simulator: GraphqlSimulator) -> collections.Counter[str]:
    return collections.Counter(call.operation for call in simulator.calls)


@pytest.mark.parametrize("kind", ["http-500", "http-502", "http-503", "reset", "hang", "latency"])
def test_transient_faults_are_retried(simulator: GraphqlSimulator, app: App, kind: str) -> None:
    """Two hits of a transient fault on events cost retries, not events. (429 has tests of
    its own, where Retry-After's whole seconds are waited out: ``test_graphql_drain``,
    ``test_daemon_graphql``.)"""
    ids = simulator.add_generated(150)
    fault = simulator.inject(kind, "events", times=2, delay_s=2.0 if kind == "hang" else 0.05)
    report = app.inbox().drain()
    assert fault.fired == 2
    assert simulator.queue() == []
    assert report.new == len(ids) == stored(app)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("errors", CentraFault),
        ("bad-token", CentraAuthError),
        ("malformed", CentraProtocolError),
        ("truncated", CentraProtocolError),
        ("huge", CentraProtocolError),
    ],
)
def test_untrustworthy_answers_are_refused_then_polling_goes_on(
    simulator: GraphqlSimulator, app: App, kind: str, error: type[Exception]
) -> None:
    """Not retried blindly, nothing stored or confirmed; the next poll drains normally."""
    # A connection's first request sets the listeners: done here, on an empty queue, so the
    # fault strikes the events query itself.
    assert app.client.get_events().events == []
    simulator.add_generated(30)
    if kind == "errors":
        simulator.fail(1)
    elif kind == "bad-token":
        simulator.expire_token()
    else:
        simulator.inject(kind, "events")
    with pytest.raises(error):
        app.inbox().drain()
    assert calls(simulator)["events"] == 2, "refused at once, not retried"
    simulator.expire_token(False)
    assert stored(app) == 0
    assert len(simulator.queue()) == 30
    assert "confirmEvents" not in calls(simulator)
    report = app.inbox().drain()
    assert report.new == 30
    assert simulator.queue() == []


def test_confirm_lost_after_centra_confirmed_the_events(
    simulator: GraphqlSimulator, app: App
) -> None:
    """Centra confirmed the events but the answer was lost: retried, nothing doubled."""
    simulator.add_generated(120)
    fault = simulator.inject("confirm-lost", "confirmEvents")
    report = app.inbox().drain()
    assert fault.fired == 1
    assert simulator.queue() == []
    assert report.duplicates == 0
    assert stored(app) == 120
    with app.store.transaction() as session:
        unacknowledged = session.scalar(
            select(func.count()).where(StoredEvent.acknowledged_at.is_(None))
        )
    assert unacknowledged == 0


def test_confirm_that_keeps_the_events_stops_the_drain(
    simulator: GraphqlSimulator, app: App
) -> None:
    """Centra names the events confirmed but keeps serving them: the drain stops, no spin."""
    simulator.add_generated(150)
    simulator.inject("confirm-ignored", "confirmEvents", times=1000)
    with pytest.raises(QueueStalled, match="queue is not moving"):
        app.inbox().drain()
    assert calls(simulator)["events"] == 2
    assert stored(app) == 100

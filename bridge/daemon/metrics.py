"""The service's Prometheus metrics, in a registry of its own (never prometheus_client's global).

Counters live in the process (they restart at zero, which Prometheus' ``rate()`` expects).
What the store holds (events by type and status, the outbox, the oldest failed event…) is a
snapshot the health job takes, so a scrape never touches the database; ages are worked out
from that snapshot's timestamps when Prometheus scrapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bridge import __version__
from bridge.centra.errors import (
    CentraAuthError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)

#: Polls can take minutes while a backlog drains; Centra calls take well under a second.
POLL_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
SECONDS_PER_DAY = 86400.0
CALL_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """What the health job last read from the store."""

    #: (type, status) → stored events.
    events: Mapping[tuple[str, str], int] = field(default_factory=dict)
    unacknowledged: int = 0
    #: status → outbox records.
    outbox: Mapping[str, int] = field(default_factory=dict)
    #: When the oldest event waiting for a retry arrived; None when there is none.
    oldest_failed_event_at: datetime | None = None
    #: When the oldest record still queued for Centra was queued; None when there is none.
    oldest_queued_outbox_at: datetime | None = None
    #: GraphQL: the object types Centra last said it listens to for this integration.
    listeners: tuple[str, ...] = ()
    #: GraphQL: when the token expires (``[centra] token_expires``); None when not given.
    token_expires_at: datetime | None = None


class StoreGauges:
    """A collector over the last ``StoreSnapshot``: statuses that vanish from the store
    vanish from the scrape, and ages are as old as they are when Prometheus asks."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._snapshot: StoreSnapshot | None = None

    def update(self, snapshot: StoreSnapshot) -> None:
        # One reference, swapped whole: a scrape sees the old snapshot or the new one.
        self._snapshot = snapshot

    def describe(self) -> Iterator[Metric]:
        return self._families(None)

    def collect(self) -> Iterator[Metric]:
        return self._families(self._snapshot)

    def _families(self, snapshot: StoreSnapshot | None) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "centra_bridge_events", "Stored events by type and status.", labels=["type", "status"]
        )
        unacknowledged = GaugeMetricFamily(
            "centra_bridge_events_unacknowledged", "Stored events not yet acknowledged."
        )
        outbox = GaugeMetricFamily(
            "centra_bridge_outbox_records",
            "Outbox records (ERP updates for Centra) by status.",
            labels=["status"],
        )
        failed_age = GaugeMetricFamily(
            "centra_bridge_oldest_failed_event_age_seconds",
            "Age of the oldest event waiting for a retry (status failed); 0 when none.",
        )
        queued_age = GaugeMetricFamily(
            "centra_bridge_oldest_queued_outbox_record_age_seconds",
            "Age of the oldest outbox record still queued for Centra; 0 when none.",
        )
        listeners = GaugeMetricFamily(
            "centra_bridge_event_listeners",
            "GraphQL: 1 for each object type Centra listens to for this integration.",
            labels=["object_type"],
        )
        token_days = GaugeMetricFamily(
            "centra_bridge_token_expires_in_days",
            "GraphQL: days until the API token expires ([centra] token_expires); "
            "negative once expired; absent when not configured.",
        )
        if snapshot is not None:
            for object_type in snapshot.listeners:
                listeners.add_metric([object_type], 1)
            if snapshot.token_expires_at is not None:
                left_s = snapshot.token_expires_at.timestamp() - self._clock()
                token_days.add_metric([], left_s / SECONDS_PER_DAY)
            for (kind, status), count in sorted(snapshot.events.items()):
                events.add_metric([kind, status], count)
            unacknowledged.add_metric([], snapshot.unacknowledged)
            for status, count in sorted(snapshot.outbox.items()):
                outbox.add_metric([status], count)
            failed_age.add_metric([], self._age_s(snapshot.oldest_failed_event_at))
            queued_age.add_metric([], self._age_s(snapshot.oldest_queued_outbox_at))
        yield from (events, unacknowledged, outbox, failed_age, queued_age, listeners, token_days)

    def _age_s(self, since: datetime | None) -> float:
        return 0.0 if since is None else max(0.0, self._clock() - since.timestamp())


class Metrics:
    """Every metric the service exports; ``registry`` is what the metrics server serves."""

    def __init__(self, *, version: str = __version__, clock: Callable[[], float] = time.time):
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        Info("centra_bridge_build", "The running bridge.", registry=registry).info(
            {"version": version}
        )
        self.events_fetched = Counter(
            "centra_bridge_events_fetched_total",
            "Events received from events_Get, by type.",
            ["type"],
            registry=registry,
        )
        self.events_acknowledged = Counter(
            "centra_bridge_events_acknowledged_total",
            "Events confirmed with events_Done, by type.",
            ["type"],
            registry=registry,
        )
        self.handler_outcomes = Counter(
            "centra_bridge_handler_outcomes_total",
            "Handler results by final status.",
            ["status"],
            registry=registry,
        )
        self.polls = Counter(
            "centra_bridge_polls_total", "Poll attempts by result.", ["result"], registry=registry
        )
        self.poll_duration = Histogram(
            "centra_bridge_poll_duration_seconds",
            "Duration of polls that reached Centra.",
            buckets=POLL_BUCKETS_S,
            registry=registry,
        )
        self.last_poll_success = Gauge(
            "centra_bridge_last_poll_success_timestamp_seconds",
            "Unix time of the last poll that stored and acknowledged a page.",
            registry=registry,
        )
        self.events_pruned = Counter(
            "centra_bridge_events_pruned_total",
            "Finished events removed by housekeeping.",
            registry=registry,
        )
        self.pushes = Counter(
            "centra_bridge_pushes_total",
            "Push runs (drop directory, then outbox) by result.",
            ["result"],
            registry=registry,
        )
        self.outbox_results = Counter(
            "centra_bridge_outbox_record_results_total",
            "Outbox records pushed, by result (sent, failed, dead).",
            ["result"],
            registry=registry,
        )
        self.centra_call_duration = Histogram(
            "centra_bridge_centra_call_duration_seconds",
            "Duration of calls to Centra (each attempt), by operation.",
            ["operation"],
            buckets=CALL_BUCKETS_S,
            registry=registry,
        )
        self.centra_call_errors = Counter(
            "centra_bridge_centra_call_errors_total",
            "Calls to Centra that failed, by operation and kind of error.",
            ["operation", "kind"],
            registry=registry,
        )
        self.store = StoreGauges(clock)
        registry.register(self.store)

    def centra_call(self, operation: str, seconds: float, error: Exception | None) -> None:
        """The Centra connection's ``CallObserver``: time every call, count the failed ones."""
        self.centra_call_duration.labels(operation=operation).observe(seconds)
        if error is not None:
            self.centra_call_errors.labels(operation=operation, kind=error_kind(error)).inc()


def error_kind(error: Exception) -> str:
    """The ``kind`` label of a failed call, after the ``bridge.centra.errors`` tree."""
    if isinstance(error, CentraUnavailable):
        return "unavailable"
    if isinstance(error, CentraAuthError):
        return "auth"
    if isinstance(error, CentraFault):
        return "fault"
    if isinstance(error, CentraProtocolError):
        return "protocol"
    return "other"

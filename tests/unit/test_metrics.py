"""The service's metrics as Prometheus reads them: parsed with prometheus_client's own parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from bridge import __version__
from bridge.centra.errors import (
    CentraAuthError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.daemon.metrics import Metrics, StoreSnapshot

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels, as a scraper parses it."""
    text = prometheus_client.generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def test_counters_stay_exact_past_a_million() -> None:
    """A counter past 1,000,000 reads back to the unit, where ``{value:g}`` rounded it."""
    metrics = Metrics()
    metrics.events_fetched.labels(type="order").inc(1_234_567)
    metrics.events_fetched.labels(type="order").inc()
    assert value(metrics, "centra_bridge_events_fetched_total", type="order") == 1_234_568


def test_timestamps_keep_every_second() -> None:
    """The last-success time reads back to the second (``{value:g}`` was hours off)."""
    metrics = Metrics()
    metrics.last_poll_success.set(NOW.timestamp() + 0.25)
    parsed = value(metrics, "centra_bridge_last_poll_success_timestamp_seconds")
    assert parsed == NOW.timestamp() + 0.25


def test_label_values_survive_quotes_backslashes_and_newlines() -> None:
    """A label value with quotes, backslashes and newlines cannot break the format."""
    metrics = Metrics()
    metrics.polls.labels(result='a"b\\c\nd').inc()
    assert value(metrics, "centra_bridge_polls_total", result='a"b\\c\nd') == 1


def test_build_and_process_metrics() -> None:
    """The bridge's version is exported as build info, beside the process' own metrics."""
    metrics = Metrics()
    assert value(metrics, "centra_bridge_build_info", version=__version__) == 1
    assert value(metrics, "process_start_time_seconds") is not None


def test_store_gauges_follow_the_last_snapshot() -> None:
    """Counts are those of the last snapshot: a status that vanished from the store vanishes."""
    metrics = Metrics(clock=NOW.timestamp)
    metrics.store.update(
        StoreSnapshot(
            events={("order", "failed"): 2, ("order", "handled"): 7},
            unacknowledged=3,
            outbox={"queued": 4},
        )
    )
    assert value(metrics, "centra_bridge_events", type="order", status="failed") == 2
    assert value(metrics, "centra_bridge_events_unacknowledged") == 3
    assert value(metrics, "centra_bridge_outbox_records", status="queued") == 4
    metrics.store.update(StoreSnapshot(events={("order", "handled"): 9}))
    assert value(metrics, "centra_bridge_events", type="order", status="failed") is None
    assert value(metrics, "centra_bridge_events", type="order", status="handled") == 9
    assert value(metrics, "centra_bridge_outbox_records", status="queued") is None


def test_ages_are_taken_when_scraped() -> None:
    """The oldest failed event's and queued record's ages grow with the clock between
    snapshots; with none left, they are 0."""
    clock = [NOW.timestamp()]
    metrics = Metrics(clock=lambda: clock[0])
    metrics.store.update(
        StoreSnapshot(
            oldest_failed_event_at=NOW - timedelta(minutes=90),
            oldest_queued_outbox_at=NOW - timedelta(seconds=30),
        )
    )
    assert value(metrics, "centra_bridge_oldest_failed_event_age_seconds") == 5400
    assert value(metrics, "centra_bridge_oldest_queued_outbox_record_age_seconds") == 30
    clock[0] += 60
    assert value(metrics, "centra_bridge_oldest_failed_event_age_seconds") == 5460
    metrics.store.update(StoreSnapshot())
    assert value(metrics, "centra_bridge_oldest_failed_event_age_seconds") == 0
    assert value(metrics, "centra_bridge_oldest_queued_outbox_record_age_seconds") == 0


def test_centra_calls_timed_and_errors_counted_by_operation_and_kind() -> None:
    """Every call lands in its operation's histogram; a failed one also counts its kind."""
    metrics = Metrics()
    metrics.centra_call("events_Get", 0.2, None)
    metrics.centra_call("events_Get", 0.3, CentraUnavailable("HTTP 503"))
    metrics.centra_call("events_Done", 0.1, CentraProtocolError("not XML"))
    metrics.centra_call("products_Update", 0.1, CentraFault("no such product"))
    metrics.centra_call("products_Update", 0.1, CentraAuthError("login refused"))
    metrics.centra_call("products_Update", 0.1, ValueError("a bug"))
    duration = "centra_bridge_centra_call_duration_seconds_count"
    assert value(metrics, duration, operation="events_Get") == 2
    assert value(metrics, duration, operation="products_Update") == 3
    errors = "centra_bridge_centra_call_errors_total"
    assert value(metrics, errors, operation="events_Get", kind="unavailable") == 1
    assert value(metrics, errors, operation="events_Done", kind="protocol") == 1
    for kind in ("fault", "auth", "other"):
        assert value(metrics, errors, operation="products_Update", kind=kind) == 1


def test_two_services_in_one_process_keep_their_own_metrics() -> None:
    """Each Metrics has a registry of its own: nothing lands in prometheus_client's global one."""
    first, second = Metrics(), Metrics()
    first.polls.labels(result="ok").inc()
    assert value(first, "centra_bridge_polls_total", result="ok") == 1
    assert value(second, "centra_bridge_polls_total", result="ok") is None
    global_names = {family.name for family in prometheus_client.REGISTRY.collect()}
    assert not {name for name in global_names if name.startswith("centra_bridge")}

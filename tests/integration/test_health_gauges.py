"""The health job's reading of the store, on both databases, as /metrics then shows it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import prometheus_client
from daemon_harness import write_config
from prometheus_client.parser import text_string_to_metric_families

from bridge.app import App
from bridge.config import load_settings
from bridge.daemon.health import Health
from bridge.daemon.jobs import Jobs
from bridge.daemon.metrics import Metrics
from bridge.store.models import EventStatus, OutboxRecord, OutboxStatus, StoredEvent

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def event(event_id: str, status: str, received_at: datetime) -> StoredEvent:
    return StoredEvent(
        event_id=event_id,
        type="order",
        entry=event_id,
        mission="update",
        centra_date="",
        payload_kind="order",
        xml="<event/>",
        status=status,
        attempts=1,
        received_at=received_at,
        acknowledged_at=received_at,
    )


def record(erp_id: str, status: str, created_at: datetime) -> OutboxRecord:
    return OutboxRecord(
        entity_type="product",
        erp_id=erp_id,
        fields={"id": erp_id},
        status=status,
        created_at=created_at,
    )


def scraped(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = prometheus_client.generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_refresh_exports_counts_and_the_oldest_waiting_work(
    tmp_path: Path, database_url: str
) -> None:
    """Counts by type and status, the outbox by status, and the ages of the oldest event
    waiting for a retry and the oldest record still queued; dead and sent ones do not age."""
    config = write_config(tmp_path, "http://127.0.0.1:9/soap", "pw", database=database_url)
    metrics = Metrics(clock=NOW.timestamp)
    with App.open(load_settings(config)) as app:
        with app.store.transaction() as session:
            session.add_all(
                [
                    event("1", EventStatus.DEAD, NOW - timedelta(days=3)),
                    event("2", EventStatus.FAILED, NOW - timedelta(minutes=90)),
                    event("3", EventStatus.FAILED, NOW - timedelta(minutes=5)),
                    event("4", EventStatus.HANDLED, NOW - timedelta(minutes=1)),
                    record("P1", OutboxStatus.SENT, NOW - timedelta(days=2)),
                    record("P2", OutboxStatus.FAILED, NOW - timedelta(days=1)),
                    record("P3", OutboxStatus.QUEUED, NOW - timedelta(seconds=30)),
                ]
            )
        health = Health()
        Jobs(app, app.settings.schedule, threading.Event(), metrics, health).refresh()
    got = scraped(metrics)
    assert got[("centra_bridge_events", frozenset({("type", "order"), ("status", "failed")}))] == 2
    assert got[("centra_bridge_outbox_records", frozenset({("status", "queued")}))] == 1
    assert got[("centra_bridge_oldest_failed_event_age_seconds", frozenset())] == 90 * 60
    assert got[("centra_bridge_oldest_queued_outbox_record_age_seconds", frozenset())] == 30
    assert (health.backlog, health.failed, health.dead) == (2, 2, 1)

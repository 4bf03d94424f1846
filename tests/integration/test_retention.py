"""Housekeeping on both databases: finished old events go, failed, dead and fresh ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bridge.store import Store, retention
from bridge.store.models import CentraResponse, EventStatus, OutboxRecord, StoredEvent

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=90)


def add(store: Store, event_id: str, status: str, handled: datetime, *, acked: bool = True) -> None:
    with store.transaction() as session:
        response = CentraResponse(
            operation="events_Get", request_id=None, received_at=handled, body=b"<x/>"
        )
        session.add(response)
        session.flush()
        session.add(
            StoredEvent(
                event_id=event_id,
                type="order",
                entry="1",
                mission="update",
                centra_date="",
                payload_kind="order",
                xml="<event/>",
                response_id=response.id,
                status=status,
                attempts=0,
                received_at=handled,
                handled_at=handled,
                acknowledged_at=handled if acked else None,
            )
        )


def test_prune_keeps_what_still_matters(store: Store) -> None:
    """Old finished events and their answers go; failed, dead, unacked, recent, newest stay."""
    add(store, "handled-old", EventStatus.HANDLED, OLD)
    add(store, "ignored-old", EventStatus.IGNORED, OLD)
    add(store, "failed-old", EventStatus.FAILED, OLD)
    add(store, "dead-old", EventStatus.DEAD, OLD)
    add(store, "unacked-old", EventStatus.HANDLED, OLD, acked=False)
    add(store, "handled-new", EventStatus.HANDLED, NOW)
    add(store, "newest-old", EventStatus.HANDLED, OLD)
    with store.transaction() as session:
        assert retention.prune_events(session, NOW - timedelta(days=30), 100) == 2
        assert retention.prune_responses(session, 100) == 2
    with store.transaction() as session:
        left = set(session.scalars(select(StoredEvent.event_id)))
        answers = len(session.scalars(select(CentraResponse.id)).all())
    assert left == {"failed-old", "dead-old", "unacked-old", "handled-new", "newest-old"}
    assert answers == 5


def outbox_row(erp_id: str, status: str, sent_days_ago: float | None) -> OutboxRecord:
    now = datetime.now(UTC)
    return OutboxRecord(
        entity_type="customer",
        erp_id=erp_id,
        fields={"id": erp_id},
        status=status,
        created_at=now - timedelta(days=90),
        sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago),
    )


def test_prune_outbox_forgets_old_sent_updates_only(store: Store) -> None:
    """Sent long ago goes; recent, unsent, and the newer sibling of a dead update stay."""
    with store.transaction() as session:
        session.add_all(
            [
                outbox_row("C1", "sent", 60),
                outbox_row("C2", "sent", 1),
                outbox_row("C3", "queued", None),
                outbox_row("C4", "dead", None),
                outbox_row("C4", "sent", 60),
            ]
        )
    before = datetime.now(UTC) - timedelta(days=30)
    with store.transaction() as session:
        assert retention.prune_outbox(session, before, 100) == 1
        left = sorted((r.erp_id, r.status) for r in session.scalars(select(OutboxRecord)))
    assert left == [("C2", "sent"), ("C3", "queued"), ("C4", "dead"), ("C4", "sent")]


def test_prune_staged_forgets_what_an_interrupted_push_left(store: Store) -> None:
    """Staged records older than the cut go; younger ones (a push still reading) stay, and
    so does everything queued."""
    young = outbox_row("C2", "staged", None)
    young.created_at = datetime.now(UTC)
    with store.transaction() as session:
        session.add_all([outbox_row("C1", "staged", None), young, outbox_row("C3", "queued", None)])
    before = datetime.now(UTC) - timedelta(days=1)
    with store.transaction() as session:
        assert retention.prune_staged(session, before, 100) == 1
        left = sorted((r.erp_id, r.status) for r in session.scalars(select(OutboxRecord)))
    assert left == [("C2", "staged"), ("C3", "queued")]

"""What ``centra-bridge status`` reports: counts by status, what is stuck, what is waiting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.store import events as repo
from bridge.store.models import EventStatus, IdMapping, OutboxRecord, StoredEvent


def report(session: Session) -> dict[str, Any]:
    """A JSON-ready picture of the store; ``events.total`` and ``events.by_status`` always set."""
    by_status = repo.count_by_status(session)
    oldest_failed = session.scalars(
        select(StoredEvent)
        .where(StoredEvent.status.in_((EventStatus.FAILED, EventStatus.DEAD)))
        .order_by(StoredEvent.seq)
        .limit(1)
    ).first()
    last_received = session.scalar(select(func.max(StoredEvent.received_at)))
    unacknowledged = session.scalar(
        select(func.count()).where(StoredEvent.acknowledged_at.is_(None))
    )
    outbox = dict(
        session.execute(
            select(OutboxRecord.status, func.count()).group_by(OutboxRecord.status)
        ).all()
    )
    return {
        "events": {
            "total": sum(by_status.values()),
            "by_status": {status.value: by_status.get(status, 0) for status in EventStatus},
            "by_type": repo.count_by_type(session),
            "unacknowledged": unacknowledged or 0,
            "pending": by_status.get(EventStatus.NEW, 0) + by_status.get(EventStatus.FAILED, 0),
            "last_received_at": last_received.isoformat() if last_received else None,
            "oldest_failed": _failed(oldest_failed),
        },
        "outbox": {"total": sum(outbox.values()), "by_status": outbox},
        "id_map": {"total": session.scalar(select(func.count()).select_from(IdMapping)) or 0},
    }


def _failed(event: StoredEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {
        "event_id": event.event_id,
        "type": event.type,
        "status": event.status,
        "attempts": event.attempts,
        "error": event.last_error,
        "received_at": event.received_at.isoformat(),
    }


def render(data: dict[str, Any]) -> str:
    """The report as a short table for people."""
    events = data["events"]
    lines = [f"events             {events['total']}"]
    lines += [f"  {status:<16} {count}" for status, count in events["by_status"].items()]
    lines.append(f"  {'unacknowledged':<16} {events['unacknowledged']}")
    lines.append(f"last received      {events['last_received_at'] or '-'}")
    failed = events["oldest_failed"]
    if failed:
        lines.append(
            f"oldest failed      event {failed['event_id']} ({failed['type']}, "
            f"{failed['status']}, {failed['attempts']} attempts): {failed['error']}"
        )
    if events["by_type"]:
        lines.append("by type            " + ", ".join(
            f"{event_type}={count}" for event_type, count in sorted(events["by_type"].items())
        ))
    outbox = data["outbox"]
    lines.append(f"outbox             {outbox['total']}")
    lines += [f"  {status:<16} {count}" for status, count in sorted(outbox["by_status"].items())]
    lines.append(f"id map             {data['id_map']['total']}")
    return "\n".join(lines)

"""What ``centra-bridge status`` reports: counts by status, what is stuck, what is waiting."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.store import events as repo
from bridge.store import outbox as outbox_repo
from bridge.store import state
from bridge.store.models import EventStatus, IdMapping, StoredEvent

#: Failed or dead outbox records listed by ``status``, oldest first.
TROUBLED_SHOWN = 10


def report(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """A JSON-ready picture of the store; ``events.total`` and ``events.by_status`` always set.

    With ``now``, ``poll`` says how long ago the last successful poll was.
    """
    counts = repo.count_by_type_and_status(session)
    by_status: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for (event_type, status), count in counts.items():
        by_status[status] += count
        by_type[event_type] += count
    oldest_failed = session.scalars(
        select(StoredEvent)
        .where(StoredEvent.status.in_((EventStatus.FAILED, EventStatus.DEAD)))
        .order_by(StoredEvent.seq)
        .limit(1)
    ).first()
    last_received = session.scalar(select(func.max(StoredEvent.received_at)))
    outbox = outbox_repo.count_by_status(session)
    return {
        "events": {
            "total": sum(by_status.values()),
            "by_status": {status.value: by_status.get(status, 0) for status in EventStatus},
            "by_type": dict(by_type),
            "unacknowledged": repo.count_unacknowledged(session),
            "pending": by_status.get(EventStatus.NEW, 0) + by_status.get(EventStatus.FAILED, 0),
            "last_received_at": last_received.isoformat() if last_received else None,
            "oldest_failed": _failed(oldest_failed),
        },
        "outbox": {
            "total": sum(outbox.values()),
            "by_status": outbox,
            # The oldest failed and dead records, each with Centra's own messages.
            "troubled": outbox_repo.troubled(session, TROUBLED_SHOWN),
        },
        "id_map": {"total": session.scalar(select(func.count()).select_from(IdMapping)) or 0},
        "poll": _poll(state.poll_state(session), now),
    }


def _poll(polls: state.PollState, now: datetime | None) -> dict[str, Any]:
    age = polls.age_s(now) if now else None
    return {
        "last_success_at": polls.succeeded_at.isoformat() if polls.succeeded_at else None,
        "age_s": round(age, 1) if age is not None else None,
        "last_failure_at": polls.failed_at.isoformat() if polls.failed_at else None,
        "last_error": polls.error,
    }


def stale(data: dict[str, Any], max_age_s: float) -> str | None:
    """Why the last successful poll is too old for monitoring, or None when it is recent."""
    age = data["poll"]["age_s"]
    if age is None:
        return "no successful poll recorded"
    if age > max_age_s:
        return f"last successful poll {age:.0f} s ago, more than {max_age_s:g} s"
    return None


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
    poll = data["poll"]
    lines = [f"last poll ok       {_ago(poll)}"]
    if poll["last_error"] and (poll["last_failure_at"] or "") > (poll["last_success_at"] or ""):
        lines.append(f"last poll failed   {poll['last_failure_at']}: {poll['last_error']}")
    lines.append(f"backlog            {events['pending']}")
    lines.append(f"events             {events['total']}")
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
        lines.append(
            "by type            "
            + ", ".join(
                f"{event_type}={count}" for event_type, count in sorted(events["by_type"].items())
            )
        )
    outbox = data["outbox"]
    lines.append(f"outbox             {outbox['total']}")
    lines += [f"  {status:<16} {count}" for status, count in sorted(outbox["by_status"].items())]
    lines += [
        f"  #{record['id']} {record['type']} {record['erp_id']} ({record['status']}, "
        f"{record['attempts']} attempts, {record['source'] or '-'}): "
        f"{'; '.join(record['errors']) or record['last_error']}"
        for record in outbox.get("troubled", [])
    ]
    lines.append(f"id map             {data['id_map']['total']}")
    return "\n".join(lines)


def _ago(poll: dict[str, Any]) -> str:
    if poll["last_success_at"] is None:
        return "never"
    age = f" ({poll['age_s']:.0f} s ago)" if poll["age_s"] is not None else ""
    return poll["last_success_at"] + age

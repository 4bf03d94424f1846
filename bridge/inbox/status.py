"""What ``centra-bridge status`` reports: counts by status, what is stuck, what is waiting.

The report is plain JSON-ready data; the command line renders it for people.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.store import events as repo
from bridge.store import idmap as idmap_repo
from bridge.store import outbox as outbox_repo
from bridge.store import state
from bridge.store.models import EventStatus, OutboxStatus, StoredEvent

#: Failed or dead outbox records listed by ``status``, oldest first.
TROUBLED_SHOWN = 10


def report(
    session: Session, now: datetime | None = None, token_expires: date | None = None
) -> dict[str, Any]:
    """A JSON-ready picture of the store; ``events.total`` and ``events.by_status`` always set.

    With ``now``, ``poll`` says how long ago the last successful poll was, and
    ``centra.token_days_left`` how many days the GraphQL token has left (``token_expires``).
    """
    counts = repo.count_by_type_and_status(session)
    by_status: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for (event_type, status), count in counts.items():
        by_status[status] += count
        by_type[event_type] += count
    oldest_failed = repo.oldest_failed(session)
    last_received = repo.last_received_at(session)
    outbox = outbox_repo.count_by_status(session)
    troubled = outbox_repo.troubled(session, TROUBLED_SHOWN)
    troubled_total = sum(
        outbox.get(status, 0) for status in (OutboxStatus.FAILED, OutboxStatus.DEAD)
    )
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
            "troubled": troubled,
            # Failed and dead records past the ones listed.
            "troubled_more": max(0, troubled_total - len(troubled)),
        },
        "id_map": {"total": idmap_repo.count(session)},
        "poll": _poll(state.poll_state(session), now),
        "centra": _centra(state.listeners(session), token_expires, now),
    }


def _centra(
    listening: state.Listeners | None, token_expires: date | None, now: datetime | None
) -> dict[str, Any]:
    """What Centra listens to for this integration, and the token's days left (GraphQL)."""
    days_left = (token_expires - now.date()).days if token_expires and now else None
    return {
        "listeners": listening.change_types if listening else None,
        "listeners_set_at": listening.at.isoformat() if listening else None,
        "token_expires": token_expires.isoformat() if token_expires else None,
        "token_days_left": days_left,
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

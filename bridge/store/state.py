"""What the bridge records about its own polling, for ``status`` and monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bridge.store.models import BridgeState, table_of
from bridge.store.upsert import dialect_of, insert_for

POLL_SUCCEEDED = "poll.succeeded"
POLL_FAILED = "poll.failed"
#: The event listeners Centra last said it keeps for this integration (GraphQL only).
LISTENERS = "centra.listeners"
#: Stored error texts are cut here; the whole error is in the log.
MAX_DETAIL_CHARS = 500


@dataclass(frozen=True, slots=True)
class PollState:
    """The last poll that reached Centra and stored its page, and the last one that failed."""

    succeeded_at: datetime | None = None
    failed_at: datetime | None = None
    error: str | None = None

    def age_s(self, now: datetime) -> float | None:
        """Seconds since the last successful poll; None if there never was one."""
        if self.succeeded_at is None:
            return None
        return max(0.0, (now - self.succeeded_at).total_seconds())


def record(session: Session, name: str, at: datetime, detail: str | None = None) -> None:
    """One upsert: the drain records its successful poll with every page it stores."""
    session.execute(_record(dialect_of(session)), {"name": name, "at": at, "detail": detail})


@cache
def _record(dialect: str) -> Executable:
    statement = insert_for(dialect, table_of(BridgeState))
    return statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"at": statement.excluded.at, "detail": statement.excluded.detail},
    )


def poll_succeeded(session: Session, at: datetime) -> None:
    record(session, POLL_SUCCEEDED, at)


def poll_failed(session: Session, at: datetime, error: str) -> None:
    record(session, POLL_FAILED, at, error[:MAX_DETAIL_CHARS])


def poll_state(session: Session) -> PollState:
    rows = {
        row.name: row
        for row in session.scalars(
            select(BridgeState).where(BridgeState.name.in_((POLL_SUCCEEDED, POLL_FAILED)))
        )
    }
    ok, failed = rows.get(POLL_SUCCEEDED), rows.get(POLL_FAILED)
    return PollState(
        succeeded_at=ok.at if ok else None,
        failed_at=failed.at if failed else None,
        error=failed.detail if failed else None,
    )


@dataclass(frozen=True, slots=True)
class Listeners:
    """Centra's answer to the bridge's last ``setEventListeners``: object type → the change
    types listened to (Centra returns them all)."""

    at: datetime
    change_types: dict[str, list[str]]


def listeners_set(session: Session, at: datetime, change_types: dict[str, list[str]]) -> None:
    record(session, LISTENERS, at, json.dumps(change_types, sort_keys=True))


def listeners(session: Session) -> Listeners | None:
    """The listeners last recorded; None if this store never polled over GraphQL."""
    row = session.get(BridgeState, LISTENERS)
    if row is None or not row.detail:
        return None
    return Listeners(at=row.at, change_types=json.loads(row.detail))

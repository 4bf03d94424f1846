"""The ERP updates in the outbox, as the operators' lookups show them: a page, or one record.

Shared by the command line and the web console; a page is read with a limit and an offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.store import Store
from bridge.store import lookups as repo
from bridge.store.lookups import Listing, NotStored, OutboxRow, jsonable

#: Rows ``outbox list`` shows unless told otherwise.
LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """One outbox record with the fields the ERP handed over and Centra's answer as stored."""

    record: OutboxRow
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**jsonable(self.record), "fields": jsonable(self.fields)}


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Which records ``outbox list`` shows; every filter given must match."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    since: datetime | None = None
    limit: int = LIST_LIMIT
    offset: int = 0


def list_records(store: Store, query: RecordQuery) -> Listing:
    """One page of the records ``query`` matches, newest first."""
    with store.reading() as session:
        return repo.list_outbox(
            session,
            statuses=query.statuses,
            types=query.types,
            since=query.since,
            limit=query.limit,
            offset=query.offset,
        )


def record_detail(store: Store, record_id: int) -> RecordDetail:
    """One record; NotStored when the outbox holds none with that id."""
    with store.reading() as session:
        found = repo.find_outbox(session, record_id)
    if found is None:
        raise NotStored(f"no outbox record #{record_id}")
    return RecordDetail(*found)

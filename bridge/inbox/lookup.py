"""What happened to an object, an event, or the events in a status: the operators' lookups.

The command line and the web console call these same functions; each reads one page (a
limit and an offset) and says how many more there are, so none loads the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.config import EVENT_TYPES
from bridge.store import Store
from bridge.store import idmap as idmap_repo
from bridge.store import lookups as repo
from bridge.store.idmap import Link
from bridge.store.lookups import COPIES, EventRow, Listing, NotStored, OutboxRow, jsonable

#: Events shown for one object (the newest; the answer says how many earlier ones exist).
EVENTS_PER_OBJECT = 50
#: Outbox records shown for one object (the newest).
OUTBOX_PER_OBJECT = 20
#: Rows ``events list`` shows unless told otherwise.
LIST_LIMIT = 20
#: Types a lookup may name: Centra's event kinds and every type the bridge keeps a copy of.
KNOWN_TYPES = frozenset(EVENT_TYPES) - {"all"} | set(COPIES)


@dataclass(frozen=True, slots=True)
class ObjectStory:
    """Everything the store holds about one object: its events (oldest first), the copy the
    ERP sees, the ERP updates sent for it and its id mappings."""

    type: str
    object_id: str
    events: list[EventRow]
    #: Older events not in ``events``.
    earlier_events: int
    copy: dict[str, Any] | None
    outbox: list[OutboxRow]
    earlier_outbox: int
    mappings: list[Link]

    def is_empty(self) -> bool:
        return not (self.events or self.copy or self.outbox or self.mappings)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(self)
        return data


@dataclass(frozen=True, slots=True)
class EventDetail:
    """One event with its XML as stored."""

    event: EventRow
    xml: str

    def as_dict(self) -> dict[str, Any]:
        return {**jsonable(self.event), "xml": self.xml}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Which events ``events list`` shows; every filter given must match."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    since: datetime | None = None
    #: An event id or an object id.
    search: str | None = None
    limit: int = LIST_LIMIT
    offset: int = 0


def object_story(
    store: Store,
    event_type: str,
    object_id: str,
    *,
    events: int = EVENTS_PER_OBJECT,
    records: int = OUTBOX_PER_OBJECT,
) -> ObjectStory:
    """What happened to ``event_type`` ``object_id``; NotStored when the store holds nothing
    about it (or the type is one the bridge never heard of)."""
    with store.reading() as session:
        found = repo.events_of_object(session, event_type, object_id, events)
        by_erp, by_centra = idmap_repo.holding(session, event_type, [object_id])
        links = list(
            {
                (link.erp_id, link.centra_id): link
                for link in (*by_erp.values(), *by_centra.values())
            }.values()
        )
        ids = {object_id} | {i for link in links for i in (link.erp_id, link.centra_id) if i}
        pushed = repo.outbox_of_object(session, event_type, ids, records)
        story = ObjectStory(
            type=event_type,
            object_id=object_id,
            events=found.rows,
            earlier_events=found.total - len(found.rows),
            copy=repo.copy_of(session, event_type, object_id),
            outbox=pushed.rows,
            earlier_outbox=pushed.total - len(pushed.rows),
            mappings=links,
        )
    if story.is_empty():
        if event_type not in KNOWN_TYPES:
            raise NotStored(f"unknown type {event_type!r}: one of {', '.join(sorted(KNOWN_TYPES))}")
        raise NotStored(
            f"nothing stored for {event_type} {object_id}: no event, copy, outbox record "
            "or id mapping"
        )
    return story


def event_detail(store: Store, event_id: str) -> EventDetail:
    """One stored event with its XML; NotStored when there is none with that id."""
    with store.reading() as session:
        found = repo.find_event(session, event_id)
    if found is None:
        raise NotStored(f"no stored event with id {event_id}")
    return EventDetail(*found)


def list_events(store: Store, query: EventQuery) -> Listing:
    """One page of the events ``query`` matches, newest first."""
    with store.reading() as session:
        return repo.list_events(
            session,
            statuses=query.statuses,
            types=query.types,
            since=query.since,
            search=query.search,
            limit=query.limit,
            offset=query.offset,
        )

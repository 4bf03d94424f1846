"""Centra's event queue without HTTP: ascending ids, the 100-oldest window, removal on Done.

Not thread-safe on its own; the simulator guards it with one lock (centra-soap.md §2, §3, §9).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from lxml import etree

from bridge.simulator.soap import child_text, event_xml, local

#: Centra returns at most this many events per events_Get (§2.2).
WINDOW_SIZE = 100
#: Centra's filter value meaning "every kind".
ALL = "all"


@dataclass(frozen=True, slots=True)
class Event:
    """One event as Centra keeps it, all but its id, with its bytes in an events_Get answer.

    A page is re-sent until it is acknowledged and a benchmark drains thousands of them, so the
    payload is serialised once, here. That needs no id, so the simulator does it before taking
    the lock under which ``EventQueue.add`` numbers the event.
    """

    type: str
    entry: str
    mission: str
    date: str
    #: The market the event belongs to, for events_GetByMarkets (see ``market_of``).
    market_id: str | None
    #: The children of its ``ns1:event`` after ``ns1:id`` (see ``soap.event_xml``).
    xml: bytes

    @classmethod
    def of(
        cls, type: str, payload: etree._Element | None, *, entry: str, mission: str, date: str
    ) -> Event:
        """``payload`` is the single child of ``<data>`` (None: an empty ``<data/>``)."""
        fields = (("type", type), ("entry", entry), ("mission", mission), ("date", date))
        return cls(type, entry, mission, date, market_of(payload), event_xml(fields, payload))


def market_of(payload: etree._Element | None) -> str | None:
    """The market an event belongs to, for events_GetByMarkets.

    A market event belongs to itself; other payloads name theirs in ``market/id``; events
    without one (warehouse, size, B2C customer…) belong to no market and are never returned
    by a markets query (our reading of §2.1).
    """
    if payload is None:
        return None
    if local(payload) == "market":
        return child_text(payload, "id")
    return child_text(payload, "market", "id")


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """An event under the id the queue gave it, until events_Done removes it."""

    id: str
    event: Event


class EventQueue:
    """Events not yet acknowledged, oldest first, and the ids acknowledged so far."""

    def __init__(self, first_id: int = 1) -> None:
        #: Insertion order is id order because ids only grow.
        self._pending: dict[str, QueuedEvent] = {}
        self._next_id = first_id
        self.acknowledged: list[str] = []

    def add(self, event: Event) -> QueuedEvent:
        """Queue one event under the next id."""
        queued = QueuedEvent(str(self._next_id), event)
        self._next_id += 1
        self._pending[queued.id] = queued
        return queued

    def window(
        self, type: str = ALL, markets: Collection[str] | None = None, limit: int = WINDOW_SIZE
    ) -> list[QueuedEvent]:
        """The oldest ``limit`` pending events matching the filters, ascending by id.

        The same window comes back until some of it is acknowledged (§2.2).
        """
        found: list[QueuedEvent] = []
        for queued in self._pending.values():
            if len(found) == limit:
                break
            if type != ALL and queued.event.type != type:
                continue
            if markets is not None and queued.event.market_id not in markets:
                continue
            found.append(queued)
        return found

    def done(self, ids: Iterable[str]) -> list[str]:
        """Remove the named events; unknown or already acknowledged ids are ignored (U3)."""
        removed = [event_id for event_id in ids if self._pending.pop(event_id, None) is not None]
        self.acknowledged.extend(removed)
        return removed

    def pending(self, type: str = ALL) -> list[str]:
        """Ids not yet acknowledged, ascending, optionally of one kind."""
        return [e.id for e in self._pending.values() if type in (ALL, e.event.type)]

    def __len__(self) -> int:
        return len(self._pending)

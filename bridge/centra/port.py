"""The port to Centra: what the core asks of a transport, in records of its own.

Inbox, outbox and handlers talk to Centra through these two interfaces only, and the store
keeps the records they hand back without knowing where they came from. ``bridge.centra.soap``
implements them over Centra's SOAP API, ``bridge.centra.graphql`` over the GraphQL
Integration API's events; ``[centra] flavor`` picks one in the composition root
(``bridge.app``). Errors are the ``bridge.centra.errors`` tree, the same for every transport.

* ``CentraPort``: a connection. Fetch the oldest unacknowledged events (the same ones until
  they are acknowledged), acknowledge ids, send one batch of updates of one entity type.
* ``CallObserver``: told of every call a connection makes (metrics hang here, so the
  transport never imports them).
* ``EventCodec``: what needs no connection. Decode a stored event into its payload (for
  handlers and replay), check an ERP update against what Centra can take, show the
  requests a push would send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: A payload as decoded: nested dicts, lists for repeated elements, strings for text.
Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One event: Centra's notice that an object changed, with the object's complete state."""

    event_id: str
    type: str
    entry: str
    mission: str
    date: str
    #: What the event's payload is ("order", "customer", …); "" if it carries none.
    payload_kind: str
    #: The event's own part of Centra's answer, as text, secrets masked (over SOAP: the
    #: ``<event>`` element). It is decoded only when the event is handled
    #: (``EventCodec.decode``): draining stores it as it came.
    xml: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class EventPage:
    """One answer to a fetch of events."""

    events: list[Event]
    #: The answer's body as Centra sent it, secrets masked.
    raw: bytes = field(repr=False)
    #: Centra's request id (``X-Centra-Request-ID``), for support cases.
    request_id: str | None = None
    #: The call that fetched this page ("events_Get", "events_GetByMarkets", …).
    operation: str = "events_Get"
    #: Events left out because they carry no id (nothing can acknowledge them), described.
    unreadable: list[str] = field(default_factory=list)
    #: Which of Centra's APIs sent it ("soap", "graphql"): event ids are unique within one.
    transport: str = "soap"
    #: True when every event of the page carries its object as it is now, not as it was
    #: when the event was raised (GraphQL's live lookup, centra-next.md §3.6): events for
    #: one object then carry one state, which is handled once.
    state_at_fetch: bool = False


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """Centra's answer to an acknowledgement or a batch of updates.

    A rejected update is data, not an exception: ``success`` is False and ``errors`` says why.
    """

    success: bool
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    request_id: str | None = None
    raw: bytes = field(default=b"", repr=False)


class CentraPort(Protocol):
    """A connection to one Centra; every method raises only ``bridge.centra.errors``."""

    def get_events(
        self, event_type: str | None = None, markets: Sequence[str] | None = None
    ) -> EventPage:
        """The oldest unacknowledged events (at most 100), oldest first.

        None means the configured type and markets.
        """

    def acknowledge(self, event_ids: Sequence[str]) -> UpdateResult:
        """Tell Centra these events are stored; repeating it is harmless. An empty list
        makes no call and succeeds."""

    def send_updates(self, entity_type: str, items: Sequence[Payload]) -> UpdateResult:
        """One batch of updates to objects of ``entity_type`` ("product", "customer", …),
        each item addressed by Centra's id. ValueError, before any call, for an item
        Centra cannot take; an empty batch makes no call and succeeds."""

    def close(self) -> None:
        """Release the connection."""


class CallObserver(Protocol):
    """Told of each call to Centra as it ends, every attempt of a repeated one included."""

    def __call__(self, operation: str, seconds: float, error: Exception | None) -> None:
        """``operation`` as Centra names it ("events_Get", "products_Update", …); ``error``
        is what the call raised (a ``bridge.centra.errors`` error, almost always), else None."""


class EventCodec(Protocol):
    """What a transport knows without calling Centra."""

    def decode(self, stored: str) -> Payload:
        """A stored event's payload ({} if it has none); CentraProtocolError if unreadable."""

    def update_problem(self, entity_type: str, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        """(field path, problem) for the first field of an update Centra cannot take,
        else None."""

    def preview_updates(self, entity_type: str, batches: Sequence[Sequence[Payload]]) -> list[str]:
        """The requests sending these batches would make, one text each, secrets masked."""

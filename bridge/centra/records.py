"""Typed records for what Centra sends and answers; no zeep object leaves ``bridge.centra``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A payload as parsed from XML: nested dicts, lists for repeated elements, strings for text.
Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One event from ``events_Get``: the complete current state of one Centra object."""

    event_id: str
    type: str
    entry: str
    mission: str
    date: str
    #: Local name of the single child of ``<data>`` ("order", "customer", …); "" if none.
    payload_kind: str
    #: The ``<event>`` element re-serialised on its own (namespace declarations included).
    #: Its ``<data>`` is read into a dict only when the event is handled
    #: (``bridge.centra.parse.event_payload``): draining stores it as it came.
    xml: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class EventPage:
    """One answer to ``events_Get`` / ``events_GetByMarkets``."""

    events: list[Event]
    #: The HTTP body exactly as Centra sent it.
    raw: bytes = field(repr=False)
    #: Centra's ``X-Centra-Request-ID`` header, for support cases.
    request_id: str | None = None
    #: "events_Get" or "events_GetByMarkets": the call that fetched this page.
    operation: str = "events_Get"
    #: Events left out because they carry no ``<id>`` (nothing can acknowledge them), described.
    unreadable: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """Centra's shared ``result`` answer to events_Done and every ``*_Update``.

    A rejected update is data, not an exception: ``success`` is False and ``errors`` says why.
    """

    success: bool
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    request_id: str | None = None
    raw: bytes = field(default=b"", repr=False)

"""Delivery of Centra events to the ERP, behind the handlers: a directory, a database, code.

A sink is a callable taking the event (``bridge.handlers.base.EventRecord``). It runs inside
the event's handling, after the handler; raising makes the event ``failed``, retried with
back-off and finally ``dead``, like any handler failure, and never delays the acknowledgement.
Sinks deliver at least once (a retry after a crash delivers again): the directory sink writes
the same file name again, the database sink skips an event id it already holds, and a Python
sink should use ``event.event_id`` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from bridge.config import SinkSettings
from bridge.handlers.base import EventRecord
from bridge.handlers.registry import load_handler

Sink = Callable[[EventRecord], None]


def make_sink(event_type: str, settings: SinkSettings) -> Sink:
    """The sink ``[sinks.<event_type>]`` describes (imports only what that kind needs)."""
    if settings.kind == "directory":
        from bridge.handlers.sinks.directory import DirectorySink

        assert settings.path is not None
        return DirectorySink(settings.path, settings.format)
    if settings.kind == "database":
        from bridge.handlers.sinks.database import DatabaseSink

        return DatabaseSink(settings.url, settings.table or f"centra_{event_type}")
    return cast(Sink, load_handler(settings.target, f"[sinks.{event_type}] target"))


def destination(sink: Sink, event: EventRecord) -> str:
    """Where ``sink`` put ``event``, for ``events show``: the file, the table, or the
    callable a Python sink is (it tells nothing more)."""
    describe = getattr(sink, "destination", None)
    if callable(describe):
        return str(describe(event))
    name = getattr(sink, "__qualname__", type(sink).__qualname__)
    return f"python {sink.__module__}:{name}"

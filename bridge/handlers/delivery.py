"""What runs behind a handler: customer ids into the id map, echo suppression, the sink.

``with_delivery`` wraps the registry's handlers once, when the app is built:

* a customer event registers its Centra id in the id map (origin "centra"), so an ERP id
  can be linked to it with ``ids set``;
* an event for an object the bridge pushed is checked against the push (``bridge.outbox.echo``):
  an echo only refreshes the built-in local copy; neither a custom handler nor the sink sees it;
* otherwise the handler runs, and when it handled the event, the type's sink delivers it;
* with ``[orders] lock_on_import``, an order event delivered without error queues the lock
  for that order (once per order), so Centra hands the order over to the ERP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.handlers.base import EventRecord, Handler, Outcome
from bridge.handlers.payload import text
from bridge.handlers.registry import BUILT_IN, Registry
from bridge.handlers.sinks import Sink, destination
from bridge.outbox.echo import expected_fields, is_echo, order_consequences, reflects
from bridge.outbox.entities import MAPPED_TYPES
from bridge.outbox.input import ErpRecord
from bridge.store import copies
from bridge.store import events as events_repo
from bridge.store import idmap as idmap_repo
from bridge.store import outbox as outbox_repo
from bridge.store.models import MASTER_DATA_COPIES, Order

log = structlog.get_logger(__name__)

#: Event types the outbox pushes, with the local copy that holds the previous state.
_PUSHED: Mapping[str, copies.Copy] = {
    **{entity_type: MASTER_DATA_COPIES[entity_type] for entity_type in MAPPED_TYPES},
    "order": Order,
}
#: Fields of a pushed order that name it rather than change it (every event shows them).
_ORDER_NAMES = ("type", "store")


class Delivery:
    """One event type's handler with registration, echo suppression and sink around it."""

    def __init__(
        self,
        event_type: str,
        handler: Handler | None,
        sink: Sink | None,
        echo_window_s: float,
        clock: Callable[[], datetime] = utcnow,
        *,
        lock_on_import: bool = False,
    ) -> None:
        self.event_type = event_type
        self.handler = handler
        self.sink = sink
        self.echo_window = timedelta(seconds=echo_window_s)
        self._clock = clock
        self.lock_on_import = lock_on_import and event_type == "order"

    def __call__(self, session: Session, event: EventRecord) -> Outcome | None:
        now = self._clock()
        if self.event_type == "customer" and not event.is_delete and event.object_id:
            idmap_repo.register_centra(session, "customer", event.object_id, now)
        if self._is_echo(session, event, now):
            log.info("echo of a push; not delivered", object_id=event.object_id)
            events_repo.mark_echo(session, event.seq)
            built_in = BUILT_IN.get(self.event_type)
            return built_in(session, event) if built_in is not None else Outcome.HANDLED
        outcome = self.handler(session, event) if self.handler is not None else None
        if (outcome or Outcome.HANDLED) is not Outcome.HANDLED:
            return outcome
        if self.sink is not None:
            self.sink(event)
            events_repo.mark_delivered(session, event.seq, destination(self.sink, event))
        if self.lock_on_import:
            _queue_lock(session, event, now)
        return outcome

    def _is_echo(self, session: Session, event: EventRecord, now: datetime) -> bool:
        """Decide, and mark the pushes this event shows back as echoed (they expect no more)."""
        model = _PUSHED.get(self.event_type)
        if model is None or event.is_delete or not event.object_id:
            return False
        pushes = outbox_repo.unechoed(
            session, self.event_type, event.object_id, now - self.echo_window
        )
        if not pushes:
            return False
        pushed = [
            {k: v for k, v in push.fields.items() if k not in _ORDER_NAMES}
            if self.event_type == "order"
            else push.fields
            for push in pushes
        ]
        expected = expected_fields(pushed)
        if not reflects(event.payload, expected):
            return False
        before = copies.previous(session, model, event.object_id, event.seq)
        owned = order_consequences(pushed) if self.event_type == "order" else set()
        echo = is_echo(event.payload, before, expected, owned)
        for push in pushes:
            push.echo_event_id = event.event_id
        return echo


def _queue_lock(session: Session, event: EventRecord, now: datetime) -> None:
    """Queue the lock of the order this event brought, unless it is locked or was queued."""
    key = f"lock-on-import:{event.object_id}"
    payload = event.payload
    if event.is_delete or not event.object_id or text(payload, "locked") == "yes":
        return
    if outbox_repo.input_queued(session, key):
        return
    fields = {
        "id": event.object_id,
        "type": text(payload, "type"),
        "store": text(payload, "store"),
        "locked": "yes",
    }
    source = f"lock on import of event {event.event_id}"
    record = ErpRecord("order", event.object_id, fields, source)
    outbox_repo.add_records(session, [record], now, key)
    log.info("order lock queued", order_id=event.object_id)


def with_delivery(
    registry: Registry,
    sinks: Mapping[str, Sink],
    echo_window_s: float,
    *,
    lock_on_import: bool = False,
) -> Registry:
    """The registry with every pushed type and every type with a sink wrapped in Delivery."""
    known = set(registry.types())
    handlers: dict[str, Handler] = {t: registry.for_type(t) for t in known}
    for event_type in known.union(sinks).intersection({*_PUSHED, *sinks}):
        handler = registry.for_type(event_type) if event_type in known else None
        handlers[event_type] = Delivery(
            event_type,
            handler,
            sinks.get(event_type),
            echo_window_s,
            lock_on_import=lock_on_import,
        )
    return Registry(handlers)

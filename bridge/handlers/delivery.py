"""What runs behind a handler: customer ids into the id map, echo suppression, the sink.

``with_delivery`` wraps the registry's handlers once, when the app is built:

* a customer event registers its Centra id in the id map (origin "centra"), so an ERP id
  can be linked to it with ``ids set``;
* an event for an object the bridge pushed is checked against the push (``bridge.outbox.echo``):
  an echo only refreshes the built-in local copy; neither a custom handler nor the sink sees it;
* otherwise the handler runs, and when it handled the event, the type's sink delivers it;
* with ``[orders] lock_on_import``, an order event delivered without error queues the lock
  for that order (once per order), so Centra hands the order over to the ERP.

A type with neither sink nor lock on import, whose handler takes batches (the built-ins do),
is wrapped in ``BatchDelivery``: the same steps for a whole batch, one read or write each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.handlers.base import BatchHandler, EventRecord, Handler, Outcome
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
from bridge.store.models import MASTER_DATA_COPIES, Order, OutboxRecord

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
        return self._shows_back(
            event, pushes, lambda: copies.previous(session, model, event.object_id, event.seq)
        )

    def _shows_back(
        self,
        event: EventRecord,
        pushes: Sequence[OutboxRecord],
        before: Callable[[], dict[str, Any] | None],
    ) -> bool:
        """Whether ``event`` is the echo of ``pushes``; marks those it reflects as echoed."""
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
        owned = order_consequences(pushed) if self.event_type == "order" else set()
        echo = is_echo(event.payload, before(), expected, owned)
        for push in pushes:
            push.echo_event_id = event.event_id
        return echo


class BatchDelivery(Delivery):
    """``Delivery`` for a type with no sink and no lock on import, a batch at a time.

    The id map is read and written once per batch, the pushes echoes are checked against
    once; an echo refreshes the built-in copy like any other event of its type. A batch with
    pushes to check and a site's own handler is left to one event at a time.
    """

    def __init__(
        self,
        event_type: str,
        handler: BatchHandler,
        echo_window_s: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(event_type, handler, None, echo_window_s, clock)
        self.batch_handler = handler

    def handle_batch(
        self, session: Session, events: Sequence[EventRecord]
    ) -> Sequence[Outcome | None]:
        now = self._clock()
        if self.event_type == "customer":
            idmap_repo.register_centra_many(
                session,
                "customer",
                [event.object_id for event in events if not event.is_delete and event.object_id],
                now,
            )
        echoes = self._echoes(session, events, now)
        if echoes:
            log.info("echoes of pushes; not delivered", count=len(echoes))
            events_repo.mark_echoes(session, sorted(echoes))
        # Echoes only refresh the built-in copy, and only the built-in gets here with any.
        return self.batch_handler.handle_batch(session, events)

    def _echoes(self, session: Session, events: Sequence[EventRecord], now: datetime) -> set[int]:
        """The seqs of the batch's echoes, decided in order as if one event at a time.

        The copy an event is compared with is the stored one as the batch's earlier events
        of that object left it; when a custom handler keeps the copy instead of the built-in,
        that is not known here, and the batch is handled one event at a time.
        """
        model = _PUSHED.get(self.event_type)
        if model is None:
            return set()
        candidates = [event for event in events if not event.is_delete and event.object_id]
        pushes = outbox_repo.unechoed_many(
            session,
            self.event_type,
            [event.object_id for event in candidates],
            now - self.echo_window,
        )
        if not pushes:
            return set()
        if self.batch_handler is not BUILT_IN.get(self.event_type):
            raise OneAtATime(f"{self.event_type}: pushes to echo and a custom handler")
        stored = copies.states(session, model, set(pushes))
        echoes: set[int] = set()
        for event in events:
            if event.object_id not in pushes:
                continue
            state = stored.get(event.object_id)
            if not event.is_delete and self._shows_back(
                event,
                [push for push in pushes[event.object_id] if push.echo_event_id is None],
                partial(_before, state, event.seq),
            ):
                echoes.add(event.seq)
            if state is None or event.seq >= state.event_seq:
                stored[event.object_id] = copies.CopyState(
                    event.seq, event.is_delete, {} if event.is_delete else event.payload
                )
        return echoes


class OneAtATime(Exception):
    """A batch this wrapper cannot decide as a whole: the dispatcher runs it event by event."""


def _before(state: copies.CopyState | None, seq: int) -> dict[str, Any] | None:
    """``copies.previous`` over a state kept in memory."""
    if state is None or state.deleted or state.event_seq >= seq:
        return None
    return state.data


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
        sink = sinks.get(event_type)
        locks = lock_on_import and event_type == "order"
        if isinstance(handler, BatchHandler) and sink is None and not locks:
            handlers[event_type] = BatchDelivery(event_type, handler, echo_window_s)
            continue
        handlers[event_type] = Delivery(
            event_type, handler, sink, echo_window_s, lock_on_import=lock_on_import
        )
    return Registry(handlers)

"""The composition root: builds the store, handlers, inbox, outbox and the Centra transport
from one Settings. Nothing else picks an implementation.

A site's own script uses it as the commands do::

    with App.open(load_settings(path)) as app:
        queue_updates(app.store, app.codec, [{"type": "customer", "id": "C1", "firstname": "Ada"}])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from zoneinfo import ZoneInfo

from bridge.centra.graphql import GraphqlClient, GraphqlCodec, listener_types
from bridge.centra.port import CallObserver, CentraPort, EventCodec
from bridge.centra.soap import CentraClient, SoapCodec
from bridge.config import GRAPHQL, Settings
from bridge.handlers.delivery import with_delivery
from bridge.handlers.registry import Registry
from bridge.handlers.sinks import Sink, make_sink
from bridge.inbox.dispatch import Dispatcher
from bridge.inbox.drain import Inbox
from bridge.outbox.push import Outbox
from bridge.retry import RetryPolicy
from bridge.store import Store
from bridge.store.lock import StoreLock


@dataclass
class App:
    """Everything a command needs, wired once; the Centra connection is made only on demand,
    so ``replay``, ``status`` and the id map never need Centra."""

    settings: Settings
    store: Store
    codec: EventCodec
    dispatcher: Dispatcher
    sinks: Mapping[str, Sink] = field(default_factory=dict)
    #: Told of every call to Centra (the daemon's metrics).
    centra_calls: CallObserver | None = None
    #: The event types handlers and sinks are configured for (GraphQL listens to these).
    handled_types: tuple[str, ...] = ()
    _client: CentraPort | None = None

    @classmethod
    def open(
        cls, settings: Settings, *, migrate: bool = True, centra_calls: CallObserver | None = None
    ) -> App:
        """Load handlers first (a bad dotted path fails before the database is touched).

        ``centra_calls`` is told of every call the Centra connection makes.
        """
        sinks = {kind: make_sink(kind, sink) for kind, sink in settings.sinks.items()}
        registry = with_delivery(
            Registry.from_config(settings.handlers.custom),
            sinks,
            settings.outbox.echo_window_s,
            lock_on_import=settings.orders.lock_on_import,
        )
        codec: EventCodec = (
            GraphqlCodec() if settings.centra.flavor == GRAPHQL else SoapCodec(settings.centra)
        )
        store = Store.open(settings.database.url, migrate=migrate)
        dispatcher = Dispatcher(
            store,
            registry,
            RetryPolicy.of(settings.handlers),
            codec,
            zone=ZoneInfo(settings.centra.timezone),
        )
        return cls(
            settings=settings,
            store=store,
            codec=codec,
            dispatcher=dispatcher,
            sinks=sinks,
            centra_calls=centra_calls,
            handled_types=tuple(sorted({*registry.types(), *sinks})),
        )

    @property
    def client(self) -> CentraPort:
        """The connection to Centra, made on first use."""
        if self._client is None:
            centra = self.settings.centra
            if centra.flavor == GRAPHQL:
                listen = listener_types(self.handled_types, centra.listen)
                self._client = GraphqlClient(centra, listen, observe=self.centra_calls)
            else:
                self._client = CentraClient(centra, observe=self.centra_calls)
        return self._client

    def inbox(self, lock: StoreLock | None = None) -> Inbox:
        """Centra → store; with ``lock`` (the poller's, held by this process), nothing is
        acknowledged once the lock is lost."""
        return Inbox(
            self.client,
            self.store,
            self.dispatcher,
            RetryPolicy.of(self.settings.centra),
            lock=lock,
        )

    def outbox(self) -> Outbox:
        """ERP updates → Centra; ``outbox().push_job(stop)`` is the daemon's push job."""
        return Outbox(
            self.store,
            self.client,
            self.codec,
            self.settings.outbox,
            RetryPolicy.of(self.settings.centra),
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        for sink in self.sinks.values():
            close = getattr(sink, "close", None)
            if close is not None:
                close()
        self.store.close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""The composition root: builds the store, handlers and Centra client from one Settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bridge.centra.client import CentraClient
from bridge.centra.flavors import flavor_for
from bridge.centra.schema import load_schema
from bridge.config import Settings
from bridge.handlers.dispatch import Dispatcher
from bridge.handlers.registry import Registry
from bridge.inbox import Inbox
from bridge.outbox import Outbox
from bridge.retry import RetryPolicy
from bridge.sinks import Sink, make_sink
from bridge.sinks.delivery import with_delivery
from bridge.store import Store


@dataclass
class App:
    """Everything a command needs, wired once; the Centra client is made only on demand."""

    settings: Settings
    store: Store
    dispatcher: Dispatcher
    _client: CentraClient | None = None
    sinks: Mapping[str, Sink] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> App:
        """Load handlers first (a bad dotted path fails before the database is touched)."""
        sinks = {kind: make_sink(kind, sink) for kind, sink in settings.sinks.items()}
        registry = with_delivery(
            Registry.from_config(settings.handlers.custom), sinks, settings.outbox.echo_window_s
        )
        store = Store.open(settings.database.url, migrate=migrate)
        policy = RetryPolicy.of(settings.handlers)
        schema = load_schema(flavor_for(settings.centra).wsdl_path)
        return cls(
            settings=settings,
            store=store,
            sinks=sinks,
            dispatcher=Dispatcher(store, registry, policy, schema),
        )

    @property
    def client(self) -> CentraClient:
        if self._client is None:
            self._client = CentraClient(self.settings.centra)
        return self._client

    def inbox(self) -> Inbox:
        return Inbox(self.client, self.store, self.dispatcher, RetryPolicy.of(self.settings.centra))

    def outbox(self) -> Outbox:
        """ERP updates → Centra; ``outbox().push_job(stop)`` is the daemon's push job."""
        return Outbox(
            self.store, self.client, self.settings.outbox, RetryPolicy.of(self.settings.centra)
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        for sink in self.sinks.values():
            close = getattr(sink, "close", None)
            if close is not None:
                close()
        self.store.close()

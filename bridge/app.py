"""The composition root: builds the store, handlers, inbox, outbox and the Centra transport
from one Settings. Nothing else picks an implementation.

A site's own script uses it as the commands do::

    with App.open(load_settings(path)) as app:
        queue_updates(app.store, app.codec, [{"type": "customer", "id": "C1", "firstname": "Ada"}])

A command that only looks (``status``, ``ids list``, listings of events or of the outbox)
opens it read-only, which needs no password and imports no site code::

    with App.open(load_settings(path, read_password=False), read_only=True) as app:
        with app.store.reading() as session:
            ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from zoneinfo import ZoneInfo

from bridge.centra.graphql import GraphqlClient, GraphqlCodec, listener_types
from bridge.centra.port import CallObserver, CentraPort, EventCodec
from bridge.centra.soap import CentraClient, SoapCodec
from bridge.clock import Progress, no_progress, utcnow
from bridge.config import GRAPHQL, Settings
from bridge.errors import BridgeError
from bridge.handlers.delivery import with_delivery
from bridge.handlers.registry import Registry
from bridge.handlers.sinks import Sink, make_sink
from bridge.inbox.dispatch import Dispatcher
from bridge.inbox.drain import Inbox
from bridge.outbox.push import Outbox
from bridge.retry import RetryPolicy
from bridge.store import Store, state
from bridge.store.lock import StoreLock


class ReadOnlyApp(BridgeError):
    """A part that changes something was asked of an App opened read-only (a bug)."""


READ_ONLY_REFUSAL = "this App was opened read-only: it runs no handler and calls no Centra"


@dataclass
class App:
    """Everything a command needs, wired once; the Centra connection is made only on demand,
    so ``replay``, ``status`` and the id map never need Centra."""

    settings: Settings
    store: Store
    codec: EventCodec
    _dispatcher: Dispatcher | None = None
    sinks: Mapping[str, Sink] = field(default_factory=dict)
    #: Told of every call to Centra (the daemon's metrics).
    centra_calls: CallObserver | None = None
    #: The event types handlers and sinks are configured for (GraphQL listens to these).
    handled_types: tuple[str, ...] = ()
    _client: CentraPort | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        read_only: bool = False,
        centra_calls: CallObserver | None = None,
    ) -> App:
        """Load handlers first (a bad dotted path fails before the database is touched).

        ``centra_calls`` is told of every call the Centra connection makes.

        ``read_only``: for commands that only read. The store must exist at this version's
        schema (``Store.open_existing``: nothing is created or migrated, a missing database
        is a one-line error naming it, exit 7); no custom handler or sink is imported; the
        dispatcher, inbox, outbox and Centra client are refused, so such an App can change
        nothing. Pair it with ``load_settings(..., read_password=False)``.
        """
        codec = _codec(settings)
        if read_only:
            return cls(settings, Store.open_existing(settings.database.url), codec)
        registry, sinks = load_site_code(settings)
        store = Store.open(settings.database.url, migrate=migrate)
        dispatcher = Dispatcher(
            store,
            registry,
            RetryPolicy.of(settings.handlers),
            codec,
            zone=ZoneInfo(settings.centra.timezone),
        )
        return cls(
            settings,
            store,
            codec,
            dispatcher,
            sinks,
            centra_calls=centra_calls,
            handled_types=tuple(sorted({*registry.types(), *sinks})),
        )

    @property
    def read_only(self) -> bool:
        return self._dispatcher is None

    @property
    def dispatcher(self) -> Dispatcher:
        """Runs stored events through the handlers."""
        if self._dispatcher is None:
            raise ReadOnlyApp(READ_ONLY_REFUSAL)
        return self._dispatcher

    @property
    def client(self) -> CentraPort:
        """The connection to Centra, made on first use."""
        self._ensure_writable()
        if self._client is None:
            centra = self.settings.centra
            if centra.flavor == GRAPHQL:
                listen = listener_types(self.handled_types, centra.listen)
                self._client = GraphqlClient(
                    centra, listen, observe=self.centra_calls, on_listeners=self._listeners_set
                )
            else:
                self._client = CentraClient(centra, observe=self.centra_calls)
        return self._client

    def _listeners_set(self, change_types: dict[str, list[str]]) -> None:
        """Keep what Centra listens to in the store, where ``status`` reads it."""
        with self.store.transaction() as session:
            state.listeners_set(session, utcnow(), change_types)

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

    def outbox(self, progress: Progress = no_progress) -> Outbox:
        """ERP updates → Centra; ``outbox().push_job(stop)`` is the daemon's push job."""
        self._ensure_writable()
        return Outbox(
            self.store,
            self.client,
            self.codec,
            self.settings.outbox,
            RetryPolicy.of(self.settings.centra),
            progress=progress,
        )

    def _ensure_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyApp(READ_ONLY_REFUSAL)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        close_sinks(self.sinks)
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


def load_site_code(settings: Settings) -> tuple[Registry, dict[str, Sink]]:
    """The handlers and sinks the configuration names, their code imported: a bad dotted
    path fails here (HandlerLoadError, exit 2), before any database is touched."""
    sinks = {kind: make_sink(kind, sink) for kind, sink in settings.sinks.items()}
    registry = with_delivery(
        Registry.from_config(settings.handlers.custom),
        sinks,
        settings.outbox.echo_window_s,
        lock_on_import=settings.orders.lock_on_import,
    )
    return registry, sinks


def _codec(settings: Settings) -> EventCodec:
    """The transport's codec, by ``[centra] flavor``."""
    return GraphqlCodec() if settings.centra.flavor == GRAPHQL else SoapCodec(settings.centra)


def close_sinks(sinks: Mapping[str, Sink]) -> None:
    for sink in sinks.values():
        close = getattr(sink, "close", None)
        if close is not None:
            close()

"""The composition root: builds the store, handlers and Centra client from one Settings."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.centra.client import CentraClient
from bridge.config import CentraSettings, HandlerSettings, Settings
from bridge.handlers.dispatch import Dispatcher
from bridge.handlers.registry import Registry
from bridge.inbox import Inbox
from bridge.retry import RetryPolicy
from bridge.store import Store


@dataclass
class App:
    """Everything a command needs, wired once; the Centra client is made only on demand."""

    settings: Settings
    store: Store
    dispatcher: Dispatcher
    _client: CentraClient | None = None

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> App:
        """Load handlers first (a bad dotted path fails before the database is touched)."""
        registry = Registry.from_config(settings.handlers.custom)
        store = Store.open(settings.database.url, migrate=migrate)
        policy = retry_policy(settings.handlers)
        return cls(settings=settings, store=store, dispatcher=Dispatcher(store, registry, policy))

    @property
    def client(self) -> CentraClient:
        if self._client is None:
            self._client = CentraClient(self.settings.centra)
        return self._client

    def inbox(self) -> Inbox:
        return Inbox(self.client, self.store, self.dispatcher, retry_policy(self.settings.centra))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.store.close()


def retry_policy(section: CentraSettings | HandlerSettings) -> RetryPolicy:
    """The retry policy a settings section describes (``max_attempts``, ``retry_base/max``)."""
    return RetryPolicy(
        base_s=section.retry_base_s, max_s=section.retry_max_s, max_attempts=section.max_attempts
    )

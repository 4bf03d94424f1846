"""centra-bridge: connects a legacy ERP with Centra, Centra's events in, ERP updates out.

What a site's own code uses is exported here (``bridge.EventRecord``, ``bridge.queue_updates``
…); every other module is the bridge's own and may change. The names are loaded on first
use, so ``import bridge`` stays cheap and loads no transport.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    # Handlers: what a custom handler or sink receives, returns and raises.
    "EventRecord": "bridge.handlers.base",
    "Handler": "bridge.handlers.base",
    "BatchHandler": "bridge.handlers.base",
    "Outcome": "bridge.handlers.base",
    "PermanentError": "bridge.handlers.base",
    "Sink": "bridge.handlers.sinks",
    "handle_order": "bridge.handlers.order",
    "handle_customer": "bridge.handlers.customer",
    "handle_product": "bridge.handlers.product",
    # ERP updates from Python: settings, the app, queueing and what it refuses.
    "App": "bridge.app",
    "Settings": "bridge.config",
    "load_settings": "bridge.config",
    "queue_updates": "bridge.outbox.queue",
    "InputError": "bridge.outbox.input",
    "IdConflict": "bridge.outbox.id_rules",
    # Errors and exit codes.
    "BridgeError": "bridge.errors",
    "ConfigError": "bridge.config",
    "CentraError": "bridge.centra.errors",
    "ExitCode": "bridge.errors",
}

__all__ = [
    "App",
    "BatchHandler",
    "BridgeError",
    "CentraError",
    "ConfigError",
    "EventRecord",
    "ExitCode",
    "Handler",
    "IdConflict",
    "InputError",
    "Outcome",
    "PermanentError",
    "Settings",
    "Sink",
    "handle_customer",
    "handle_order",
    "handle_product",
    "load_settings",
    "queue_updates",
]

if TYPE_CHECKING:
    from bridge.app import App
    from bridge.centra.errors import CentraError
    from bridge.config import ConfigError, Settings, load_settings
    from bridge.errors import BridgeError, ExitCode
    from bridge.handlers.base import (
        BatchHandler,
        EventRecord,
        Handler,
        Outcome,
        PermanentError,
    )
    from bridge.handlers.customer import handle_customer
    from bridge.handlers.order import handle_order
    from bridge.handlers.product import handle_product
    from bridge.handlers.sinks import Sink
    from bridge.outbox.id_rules import IdConflict
    from bridge.outbox.input import InputError
    from bridge.outbox.queue import queue_updates


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return [*globals(), *__all__]

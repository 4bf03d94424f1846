"""Which handler runs for which event type: built-ins, overridden per type from config."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from bridge.config import ConfigError
from bridge.handlers.base import EventRecord, Handler, Outcome
from bridge.handlers.copies import BuiltIn
from bridge.handlers.customer import handle_customer, handle_customers
from bridge.handlers.order import handle_order, handle_orders
from bridge.handlers.product import handle_product, handle_products

BUILT_IN: Mapping[str, BuiltIn] = {
    "order": BuiltIn(handle_order, handle_orders),
    "customer": BuiltIn(handle_customer, handle_customers),
    "product": BuiltIn(handle_product, handle_products),
}


class HandlerLoadError(ConfigError):
    """A configured handler cannot be imported or is not callable."""


def ignore(session: Session, event: EventRecord) -> Outcome:
    """Types nobody handles are kept in the store, acknowledged, and marked ignored (the
    dispatcher does not even read their payload)."""
    return Outcome.IGNORED


class Registry:
    """Maps an event type to its handler; an unknown type maps to ``ignore``."""

    def __init__(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    @classmethod
    def from_config(cls, custom: Mapping[str, str]) -> Registry:
        """The built-ins, with each ``[handlers.custom] type = "module:callable"`` replacing one."""
        handlers: dict[str, Handler] = {**BUILT_IN}
        for event_type, target in custom.items():
            handlers[event_type] = load_handler(target, f"[handlers] custom.{event_type}")
        return cls(handlers)

    def for_type(self, event_type: str) -> Handler:
        return self._handlers.get(event_type, ignore)

    def types(self) -> list[str]:
        return sorted(self._handlers)


def load_handler(target: str, key: str) -> Handler:
    """Import ``package.module:name``; a class is instantiated once, without arguments."""
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # a broken module can raise anything at import time
        raise HandlerLoadError(
            f"{key}: cannot load {target!r}: {type(exc).__name__}: {exc}"
        ) from None
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise HandlerLoadError(f"{key}: {target!r} is not callable")
    return obj  # type: ignore[no-any-return]

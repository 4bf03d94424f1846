"""Everything that talks to Centra: the SOAP client (``client``), its records and its errors.

Importing ``bridge.centra.records`` or ``.errors`` stays cheap; zeep is loaded only when
``CentraClient`` is first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.centra.errors import (
    CentraAuthError,
    CentraError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.centra.records import Event, EventPage, Payload, UpdateResult

if TYPE_CHECKING:
    from bridge.centra.client import CentraClient

__all__ = [
    "CentraAuthError",
    "CentraClient",
    "CentraError",
    "CentraFault",
    "CentraProtocolError",
    "CentraUnavailable",
    "Event",
    "EventPage",
    "Payload",
    "UpdateResult",
]


def __getattr__(name: str) -> Any:
    if name == "CentraClient":
        from bridge.centra.client import CentraClient

        return CentraClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The one clock: every timestamp the bridge stores is an aware UTC time from here.

Parts that need time take a ``clock`` argument defaulting to ``utcnow``, so tests pass their own.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, with its time zone attached."""
    return datetime.now(UTC)

"""Event dates as Centra sends them, read into aware times.

Centra's captures send ``event/date`` as ``YYYY-MM-DD HH:MM:SS`` without a zone, in the
merchant's configured time zone; its generated reference shows an xsd:dateTime with an offset
(centra-soap.md, U6). Both are read; the text as sent is kept beside the time.
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def event_time(text: str, zone: tzinfo) -> datetime | None:
    """``text`` as an aware time (without an offset: in ``zone``), or None if it is not a date."""
    value = text.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)

"""Event dates in both forms Centra may send, read into aware times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bridge.centra.dates import event_time

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def test_a_date_without_offset_is_in_the_merchants_zone() -> None:
    """The captures' ``YYYY-MM-DD HH:MM:SS`` is read in the configured zone, summer time too."""
    winter = event_time("2026-01-15 09:30:00", STOCKHOLM)
    summer = event_time("2026-07-15 09:30:00", STOCKHOLM)
    assert winter is not None and summer is not None
    assert winter.utcoffset() == timedelta(hours=1)
    assert summer.utcoffset() == timedelta(hours=2)
    assert winter.astimezone(UTC) == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "offset_h"),
    [
        ("2026-11-26T12:00:00+01:00", 1),
        ("2026-11-26T11:00:00Z", 0),
        ("2026-11-26T06:00:00-05:00", -5),
    ],
)
def test_a_date_with_offset_keeps_it(text: str, offset_h: int) -> None:
    """The reference's xsd:dateTime keeps its own offset; the configured zone does not apply."""
    parsed = event_time(text, STOCKHOLM)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=offset_h)
    assert parsed.astimezone(UTC) == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "  ", "yesterday", "26.11.2026 12:00"])
def test_what_is_not_a_date_is_none(text: str) -> None:
    """A date that cannot be read is None; the text as sent is kept elsewhere."""
    assert event_time(text, UTC) is None

"""Values Centra sends too long for a column never cost the page: the same on both databases.

PostgreSQL refuses a value longer than its column and fails the whole transaction (SQLite
stores it); a page that cannot be stored cannot be acknowledged, and every later poll would
fail the same way, so one odd value would jam Centra's queue for good.
"""

from __future__ import annotations

from datetime import UTC, datetime

from event_xml import make_event
from sqlalchemy import select

from bridge.centra.port import EventPage
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.models import CentraResponse, EventStatus, StoredEvent

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_overlong_metadata_is_cut_and_an_overlong_id_is_a_poison_event(store: Store) -> None:
    """A 200-character request id and a 40-character mission are cut; an event whose own id
    is 300 characters is kept under a shortened id and parked as dead with the reason; the
    rest of the page is stored, and every event is recorded as acknowledged by its full id."""
    long_id = "9" * 300
    events = [
        make_event("1", "order", {"id": "30"}),
        make_event("2", "order", {"id": "31"}, mission="x" * 40),
        make_event(long_id, "order", {"id": "32"}),
    ]
    page = EventPage(events=events, raw=b"<page/>", request_id="r" * 200)
    with store.transaction() as session:
        stored = repo.store_page(session, page, "events_Get", NOW)
    assert len(stored.new_seqs) == 3
    with store.transaction() as session:
        again = repo.store_page(session, page, "events_Get", NOW)
        repo.mark_acknowledged(session, [event.event_id for event in events], NOW)
    assert (again.new_seqs, again.duplicates) == ([], 3), "a page sent again dedupes"
    with store.reading() as session:
        rows = {row.entry: row for row in session.scalars(select(StoredEvent))}
        request_ids = list(session.scalars(select(CentraResponse.request_id)))
    assert request_ids == ["r" * 128]
    assert rows["31"].mission == "x" * 32
    poison = rows["32"]
    assert poison.status == EventStatus.DEAD and len(poison.event_id) <= 255
    assert "300 characters" in (poison.last_error or "")
    assert long_id in poison.xml, "the full id is kept in the event as sent"
    assert rows["30"].status == EventStatus.NEW
    assert all(row.acknowledged_at is not None for row in rows.values())

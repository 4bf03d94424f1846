"""The simulator's event queue as plain objects: window, filters, acknowledgement."""

from __future__ import annotations

from lxml import etree

from bridge.simulator.queue import WINDOW_SIZE, Event, EventQueue
from bridge.simulator.soap import build

DATE = "2024-09-02 08:00:00"


def queue_of(*kinds_and_markets: tuple[str, str | None]) -> EventQueue:
    queue = EventQueue()
    for kind, market in kinds_and_markets:
        payload = {"id": "x"} | ({"market": {"id": market}} if market else {})
        queue.add(
            Event.of(kind, build(None, kind, payload), entry="x", mission="update", date=DATE)
        )
    return queue


def test_window_is_the_oldest_hundred_until_done() -> None:
    """The same oldest 100 come back until some are acknowledged (§2.2)."""
    queue = queue_of(*[("order", None)] * 234)
    first = [e.id for e in queue.window()]
    assert first == [str(n) for n in range(1, WINDOW_SIZE + 1)]
    assert [e.id for e in queue.window()] == first
    queue.done(first[:10])
    assert [e.id for e in queue.window()] == [str(n) for n in range(11, 111)]
    assert len(queue) == 224


def test_type_filter_applies_before_the_limit() -> None:
    """A kind's window is its own oldest events, not a slice of the mixed window."""
    queue = queue_of(*[("customer", None)] * 150, ("order", None))
    assert [e.id for e in queue.window("order")] == ["151"]
    assert queue.pending("order") == ["151"]


def test_markets_filter() -> None:
    """Only events whose payload names one of the markets; a market event names itself."""
    queue = queue_of(("order", "EU"), ("order", "US"), ("warehouse", None), ("order", None))
    queue.add(
        Event.of(
            "market", build(None, "market", {"id": "EU"}), entry="1", mission="update", date=DATE
        )
    )
    assert [e.id for e in queue.window(markets={"EU"})] == ["1", "5"]
    assert [e.id for e in queue.window("order", markets={"EU", "US"})] == ["1", "2"]
    assert queue.window(markets=set()) == []


def test_done_ignores_unknown_and_repeated_ids() -> None:
    """Unknown or already acknowledged ids change nothing (U3)."""
    queue = queue_of(("order", None), ("order", None))
    assert queue.done(["2", "42", "2"]) == ["2"]
    assert queue.acknowledged == ["2"]
    assert queue.pending() == ["1"]


def test_data_less_event_has_no_market() -> None:
    """An event with an empty ``<data/>`` belongs to no market."""
    queue = EventQueue()
    queued = queue.add(Event.of("paymentterm", None, entry="", mission="update", date=DATE))
    assert queued.event.market_id is None
    assert queue.window(markets={"EU"}) == []


def test_payload_namespace_does_not_matter_for_markets() -> None:
    """A raw payload in Centra's namespace is matched by local names."""
    raw = b'<order xmlns="http://www.centra.com/webservices/"><market><id>EU</id></market></order>'
    queue = EventQueue()
    queue.add(Event.of("order", etree.fromstring(raw), entry="1", mission="update", date=""))
    assert len(queue.window(markets={"EU"})) == 1

"""drain-events end to end: the simulator over real HTTP, the real client, a real database."""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from erp_double import LEDGER_ENV, deliveries
from sqlalchemy import func, select

from bridge.app import App
from bridge.centra.errors import CentraUnavailable
from bridge.config import CentraSettings, DatabaseSettings, HandlerSettings, Secret, Settings
from bridge.inbox.drain import DrainOptions
from bridge.simulator import EVENTS_DONE_ANSWERS, Simulator
from bridge.simulator.app import Reply, Request
from bridge.store.models import CentraResponse, Order, OrderLine, StoredEvent

PASSWORD = "pw-4f9a-very-secret"


@pytest.fixture(params=EVENTS_DONE_ANSWERS)
def simulator(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A simulator per test, answering events_Done in each shape Centra's docs leave open."""
    with Simulator(
        username="erp", password=PASSWORD, seed=3, events_done_answer=request.param
    ) as running:
        yield running


def make_settings(simulator: Simulator, database_url: str, **handlers: Any) -> Settings:
    return Settings(
        centra=CentraSettings(
            endpoint=simulator.url,
            username="erp",
            password=Secret(PASSWORD),
            timeout_s=10,
            max_attempts=3,
            retry_base_s=0.01,
            retry_max_s=0.05,
        ),
        database=DatabaseSettings(url=database_url),
        handlers=HandlerSettings(**handlers),
    )


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.txt"
    monkeypatch.setenv(LEDGER_ENV, str(path))
    return path


def operations(simulator: Simulator) -> collections.Counter[str]:
    return collections.Counter(call.operation for call in simulator.calls)


def test_every_event_stored_once_and_acknowledged(simulator: Simulator, database_url: str) -> None:
    """250 realistic events: all stored, all acknowledged, unknown types too, queue empty."""
    ids = simulator.add_generated(250)
    app = App.open(make_settings(simulator, database_url))
    try:
        report = app.inbox().drain()
        with app.store.transaction() as session:
            rows = session.execute(
                select(
                    StoredEvent.event_id,
                    StoredEvent.type,
                    StoredEvent.status,
                    StoredEvent.acknowledged_at,
                )
            ).all()
    finally:
        app.close()
    assert simulator.queue() == []
    assert sorted(simulator.acknowledged, key=int) == sorted(ids, key=int)
    assert sorted(row.event_id for row in rows) == sorted(ids)
    assert all(row.acknowledged_at is not None for row in rows)
    statuses = collections.Counter(row.status for row in rows)
    assert set(statuses) <= {"handled", "ignored", "superseded"}
    unknown_types = {row.type for row in rows if row.status == "ignored"}
    assert unknown_types, "the simulator's warehouse/pricelist/… events are stored and ignored"
    assert {"order", "customer"}.isdisjoint(unknown_types)
    assert (report.fetched, report.new, report.duplicates) == (250, 250, 0)
    assert report.outcomes["failed"] == 0
    # One events_Get and one events_Done per page; the short third page ends the drain.
    assert operations(simulator) == {"events_Get": 3, "events_Done": 3}


def test_type_filter_and_page_limit(simulator: Simulator, database_url: str) -> None:
    """--type order fetches only orders; --max-pages stops after that many pages."""
    simulator.add_generated(300)
    orders_queued = len(simulator.queue("order"))
    app = App.open(make_settings(simulator, database_url))
    try:
        one_page = app.inbox().drain(DrainOptions(event_type="order", max_pages=1))
        assert one_page.pages == 1
        assert one_page.stopped == "page limit reached: 1"
        rest = app.inbox().drain(DrainOptions(event_type="order"))
        with app.store.transaction() as session:
            types = set(session.scalars(select(StoredEvent.type)))
    finally:
        app.close()
    assert types == {"order"}
    assert one_page.fetched + rest.fetched == orders_queued
    assert simulator.queue("order") == []
    assert simulator.queue() != [], "other types stay queued for whoever asks for them"


def test_resent_events_dedupe_and_are_handled_once(
    simulator: Simulator, database_url: str, ledger: Path
) -> None:
    """events_Done fails after the page is stored; Centra re-sends it; nothing is doubled."""
    ids = simulator.add_generated(150)
    centra_down = threading.Event()
    centra_down.set()

    def lose_events_done(request: Request) -> Reply | None:
        if request.operation == "events_Done" and centra_down.is_set():
            return Reply(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        return None

    simulator.faults.append(lose_events_done)
    settings = make_settings(simulator, database_url, custom={"order": "erp_double:deliver_order"})
    app = App.open(settings)
    try:
        with pytest.raises(CentraUnavailable):
            app.inbox().drain()
        assert len(simulator.queue()) == 150, "Centra never got the acknowledgement"
        assert operations(simulator)["events_Done"] == 3, "tried max_attempts times"
        centra_down.clear()
        report = app.inbox().drain()
        with app.store.transaction() as session:
            stored = session.scalar(select(func.count()).select_from(StoredEvent))
            order_event_ids = set(
                session.scalars(select(StoredEvent.event_id).where(StoredEvent.type == "order"))
            )
            unacknowledged = session.scalar(
                select(func.count()).where(StoredEvent.acknowledged_at.is_(None))
            )
    finally:
        app.close()
    assert report.duplicates == 100
    assert stored == 150
    assert unacknowledged == 0
    assert simulator.queue() == []
    delivered = deliveries(ledger)
    assert len(delivered) == len(set(delivered)), "no order delivered twice"
    assert set(delivered) == order_event_ids
    assert set(delivered) <= set(ids)


def test_confirmed_page_is_recorded_when_the_next_get_fails(
    simulator: Simulator, database_url: str
) -> None:
    """A page's acknowledgement is recorded with the next page; when that next events_Get
    fails for good, the drain still records what Centra confirmed before it gives up."""
    simulator.add_generated(150)

    def second_get_fails(request: Request) -> Reply | None:
        if request.operation == "events_Get" and operations(simulator)["events_Done"] >= 1:
            return Reply(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        return None

    simulator.faults.append(second_get_fails)
    app = App.open(make_settings(simulator, database_url))
    try:
        with pytest.raises(CentraUnavailable):
            app.inbox().drain()
        with app.store.transaction() as session:
            acknowledged = session.scalar(
                select(func.count()).where(StoredEvent.acknowledged_at.is_not(None))
            )
            stored = session.scalar(select(func.count()).select_from(StoredEvent))
    finally:
        app.close()
    assert (stored, acknowledged) == (100, 100)
    assert len(simulator.queue()) == 50


def test_failing_handler_never_holds_back_acknowledgement(
    simulator: Simulator, database_url: str
) -> None:
    """With the ERP down every order fails, yet every event is acknowledged and others handled."""
    simulator.add_generated(120)
    settings = make_settings(simulator, database_url, custom={"order": "erp_double:reject_order"})
    app = App.open(settings)
    try:
        report = app.inbox().drain()
        with app.store.transaction() as session:
            by_type_status = collections.Counter(
                session.execute(select(StoredEvent.type, StoredEvent.status)).all()
            )
            errors = set(
                session.scalars(select(StoredEvent.last_error).where(StoredEvent.type == "order"))
            )
    finally:
        app.close()
    assert simulator.queue() == []
    assert report.acknowledged == 120
    assert report.outcomes["failed"] == sum(
        count for (kind, _), count in by_type_status.items() if kind == "order"
    )
    assert all(status == "failed" for (kind, status) in by_type_status if kind == "order")
    assert by_type_status[("customer", "handled")] > 0
    assert all(error and error.startswith("ConnectionError: ERP refused order") for error in errors)


UNKNOWN_IN_ORDER = """
<ns1:order xmlns:ns1="http://www.centra.com/webservices/">
  <ns1:id>4242</ns1:id>
  <ns1:ordernumber>4242</ns1:ordernumber>
  <ns1:type>retail</ns1:type>
  <ns1:store>1</ns1:store>
  <ns1:giftwrap><ns1:paper>gold</ns1:paper><ns1:message>Happy birthday</ns1:message></ns1:giftwrap>
  <ns1:status>confirmed</ns1:status>
  <ns1:ordertotal>1135.00</ns1:ordertotal>
  <ns1:currency>EUR</ns1:currency>
  <ns1:products>
    <ns1:product>
      <ns1:id>TURTLE001</ns1:id>
      <ns1:carbonfootprint>2.4kg</ns1:carbonfootprint>
      <ns1:price>500.00</ns1:price>
      <ns1:qty>2</ns1:qty>
      <ns1:variation><ns1:id>RED</ns1:id><ns1:description>Red</ns1:description></ns1:variation>
      <ns1:sizes>
        <ns1:size>
          <ns1:id>S</ns1:id><ns1:sku>TURTLE001RED01</ns1:sku><ns1:qty>2</ns1:qty>
          <ns1:orderitem><ns1:id>9001</ns1:id></ns1:orderitem>
        </ns1:size>
      </ns1:sizes>
    </ns1:product>
  </ns1:products>
  <ns1:customer><ns1:id>77</ns1:id><ns1:description>Ada Lovelace</ns1:description></ns1:customer>
</ns1:order>
"""


def test_unknown_element_in_order_keeps_known_fields(
    simulator: Simulator, database_url: str
) -> None:
    """Elements Centra adds mid-order are kept, and no known field around them is lost."""
    event_id = simulator.add_event("order", None, entry="4242", payload_xml=UNKNOWN_IN_ORDER)
    app = App.open(make_settings(simulator, database_url))
    try:
        app.inbox().drain()
        with app.store.transaction() as session:
            order = session.get_one(Order, "4242")
            line = session.scalars(select(OrderLine).where(OrderLine.order_id == "4242")).one()
            stored = session.scalars(
                select(StoredEvent).where(StoredEvent.event_id == event_id)
            ).one()
            header = (order.status, order.ordertotal, order.currency, order.customer_id)
            line_fields = (line.line_key, line.sku, line.qty, line.price)
            payload, xml, status = order.data, stored.xml, stored.status
    finally:
        app.close()
    assert status == "handled"
    assert header == ("confirmed", "1135.00", "EUR", "77")
    assert line_fields == ("9001", "TURTLE001RED01", "2", "500.00")
    assert payload["giftwrap"] == {"paper": "gold", "message": "Happy birthday"}
    assert payload["products"][0]["carbonfootprint"] == "2.4kg"
    assert "giftwrap" in xml


ACCOUNT_WITH_BUYER = """
<ns1:account xmlns:ns1="http://www.centra.com/webservices/">
  <ns1:id>ACC-9</ns1:id>
  <ns1:description>Boutique Nord AB</ns1:description>
  <ns1:buyers>
    <ns1:buyer>
      <ns1:id>B-1</ns1:id><ns1:email>buyer@nord.example</ns1:email>
      <ns1:password>buyer-secret-77</ns1:password>
    </ns1:buyer>
  </ns1:buyers>
</ns1:account>
"""


def test_buyer_passwords_never_stored(simulator: Simulator, database_url: str) -> None:
    """An account event's buyer password is masked in the raw answer and the event's XML
    (which handlers read payloads from)."""
    simulator.add_event("account", None, entry="ACC-9", payload_xml=ACCOUNT_WITH_BUYER)
    app = App.open(make_settings(simulator, database_url))
    try:
        app.inbox().drain()
        with app.store.transaction() as session:
            row = session.scalars(select(StoredEvent)).one()
            kept = [row.xml]
            kept += [body.decode() for body in session.scalars(select(CentraResponse.body))]
    finally:
        app.close()
    assert row.status == "ignored"
    assert "buyer@nord.example" in kept[0]
    assert all("buyer-secret-77" not in text for text in kept)

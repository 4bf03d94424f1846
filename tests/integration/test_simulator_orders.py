"""The simulator answers orders_Update and pricelists_Update as Centra does, over real SOAP HTTP:
the guide's verbatim requests (centra-next.md §1.2, §2.2) and the bridge's own CentraClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from bridge.centra.port import UpdateResult
from bridge.centra.soap.client import CentraClient
from bridge.centra.soap.parse import event_payload
from bridge.centra.soap.schema import load_schema
from bridge.config import CentraSettings, Secret
from bridge.simulator import OrderRow, OrderState, Simulator

CAPTURES = Path(__file__).parents[1] / "contract" / "captures"
CENTRA = "{http://www.centra.com/webservices/}"
USERNAME, PASSWORD = "erp", "s3cret-pass"
#: Order 25 of the wholesale walk-through (§1.3).
ORDER_25 = [
    OrderRow("PWC", "PWC", "OS", 2, orderitem="67"),
    OrderRow("T001", "T001_BLUE", "S", 1, orderitem="68"),
    OrderRow("T001", "T001_BLUE", "M", 2, orderitem="69"),
    OrderRow("T001", "T001_RED", "M", 3, orderitem="70"),
    OrderRow("T001", "T001_RED", "L", 4, orderitem="71"),
]
#: Order 30 of the DTC samples: the refunded T001_RED/S, and a second row.
ORDER_30 = [
    OrderRow("T001", "T001_RED", "S", 1, orderitem="81"),
    OrderRow("PWC", "PWC", "OS", 1, orderitem="82"),
]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(username=USERNAME, password=PASSWORD) as simulator:
        yield simulator


@pytest.fixture
def client(sim: Simulator) -> Iterator[CentraClient]:
    settings = CentraSettings(
        endpoint=sim.url, username=USERNAME, password=Secret(PASSWORD), timeout_s=10
    )
    with CentraClient(settings) as centra:
        yield centra


def send_capture(
    sim: Simulator, name: str, replace: tuple[str, str] = ("", "")
) -> tuple[bool, list[str], list[str]]:
    """POST one of the guide's verbatim requests with the simulator's login (and ``replace``
    applied); returns success, errors, notices."""
    body = (CAPTURES / f"{name}.xml").read_text(encoding="utf-8").replace(*replace)
    body = body.replace("<username>example</username>", f"<username>{USERNAME}</username>")
    body = body.replace("<password>???</password>", f"<password>{PASSWORD}</password>")
    reply = requests.post(
        sim.url,
        data=body.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    result = etree.fromstring(reply.content).find(f".//{CENTRA}result")
    assert result is not None, reply.text
    messages = {
        kind: [m.text or "" for m in result.iterfind(f"{CENTRA}{kind}/{CENTRA}message")]
        for kind in ("errors", "notices")
    }
    return result.findtext(f"{CENTRA}success") == "true", messages["errors"], messages["notices"]


def state(sim: Simulator, order_id: str) -> OrderState:
    found = sim.order_state(order_id)
    assert found is not None
    return found


def order_events(sim: Simulator, client: CentraClient) -> list[dict[str, Any]]:
    """The payloads of the order events queued, as the bridge reads them; acknowledged."""
    page = client.get_events(event_type="order")
    schema = load_schema(client.flavor.wsdl_path)
    client.acknowledge([event.event_id for event in page.events])
    return [event_payload(event.xml, schema) for event in page.events]


def ok(result: UpdateResult) -> None:
    assert result.success, result.errors


def test_the_guides_wholesale_walk_through_verbatim(sim: Simulator) -> None:
    """Confirm+lock, cancel 71x1, shipments 25-1 and 25-2, both shipped: nothing left open, 71
    cancelled once, tracking on each shipment, no capture for an invoice order (§1.3)."""
    sim.add_order(ORDER_25, order_id="25", type="wholesale", shipping="123")
    for step in ("confirm", "cancel", "shipment_1", "shipment_2", "shipped"):
        success, errors, _ = send_capture(sim, f"orders_update_{step}")
        assert success, (step, errors)
    order = state(sim, "25")
    assert (order.locked, order.status, order.captures) == (True, "confirmed", 0)
    assert {oi: (r.ordered, r.cancelled, r.shipped, r.open) for oi, r in order.rows.items()} == {
        "67": (2, 0, 2, 0),
        "68": (1, 0, 1, 0),
        "69": (2, 0, 2, 0),
        "70": (3, 0, 3, 0),
        "71": (4, 1, 3, 0),
    }
    first, second = order.shipments["shipment-25-1"], order.shipments["shipment-25-2"]
    assert (first.carrier, first.service, first.tracking) == ("DHL", "EXPRESS", "876543210")
    assert second.tracking == "987654321"
    assert (first.appendix, second.appendix) == (1, 2)
    assert (first.rows, second.rows) == ({"68": 1, "69": 1, "67": 2}, {"69": 1, "70": 3, "71": 3})


def test_a_resent_shipment_is_harmless_and_over_shipping_is_refused(sim: Simulator) -> None:
    """The same shipment again changes nothing and queues no event; a third shipment of rows
    already shipped is refused with the open quantity named."""
    sim.add_order(ORDER_25, order_id="25", type="wholesale", shipping="123")
    assert send_capture(sim, "orders_update_shipment_1")[0]
    queued = sim.queue()
    assert send_capture(sim, "orders_update_shipment_1") == (True, [], [])
    assert sim.queue() == queued
    assert state(sim, "25").rows["67"].in_shipments == 2
    assert send_capture(sim, "orders_update_shipment_2")[0]
    third = send_capture(sim, "orders_update_shipment_2", ("shipment-25-2", "shipment-25-3"))
    assert third == (False, ["Order 25: cannot ship 1 of orderitem 69: 0 open"], [])
    assert "shipment-25-3" not in state(sim, "25").shipments


def test_the_dtc_path_ship_capture_refund_through_the_client(
    sim: Simulator, client: CentraClient
) -> None:
    """Lock, ship Centra's shipment 8 with tracking and capture, then refund one item, all sent
    by CentraClient.send_updates("order", …): captured once, refund 12 on shipment 8."""
    sim.add_order(ORDER_30, order_id="30", shipment="8")
    ids = {"id": "30", "type": "retail", "store": 1}
    ok(client.send_updates("order", [{**ids, "locked": "yes"}]))
    ship = {
        "id": "8",
        "shipped": "yes",
        "capture": "yes",
        "carrierinformation": {"carrier": "UPS", "service": "STANDARD", "tracking": "1Z1"},
    }
    ok(client.send_updates("order", [{**ids, "status": "completed", "shipments": [ship]}]))
    ok(client.send_updates("order", [{**ids, "shipments": [ship]}]))
    refund = {
        "id": "12",
        "status": "confirmed",
        "products": [
            {"id": "T001", "variation": {"id": "T001_RED"}, "sizes": [{"id": "S", "qty": "1"}]}
        ],
    }
    ok(client.send_updates("order", [{**ids, "shipments": [{"id": "30-1", "refunds": [refund]}]}]))
    order = state(sim, "30")
    assert (order.locked, order.status, order.captures) == (True, "completed", 1)
    assert order.shipments["8"].shipped and order.shipments["8"].paid
    assert order.shipments["8"].tracking == "1Z1"
    assert order.refunds["12"].rows == {"81": 1}
    other = {"id": "31", "type": "retail", "store": 1}
    sim.add_order([OrderRow("PWC", "PWC", "OS", 1)], order_id="31", shipment="31-1")
    ok(client.send_updates("order", [{**other, "shipments": [{"id": "31-1", "shipped": "yes"}]}]))
    pwc = {"id": "PWC", "variation": {"id": "PWC"}, "sizes": [{"id": "OS", "qty": "1"}]}
    reused = {**other, "shipments": [{"id": "31-1", "refunds": [{"id": "12", "products": [pwc]}]}]}
    result = client.send_updates("order", [reused])
    assert (result.success, result.errors) == (
        False,
        ["Refund id 12 is already used for another refund"],
    )
    assert state(sim, "31").refunds == {}


def test_a_failing_capture_is_refused_until_the_switch_is_off(
    sim: Simulator, client: CentraClient
) -> None:
    """capture_fails answers success=false and ships nothing; once off, the capture happens."""
    sim.add_order(ORDER_30, order_id="30", shipment="8")
    sim.capture_fails = True
    shipment = {"id": "8", "shipped": "yes", "capture": "yes"}
    ship = {"id": "30", "type": "retail", "store": 1, "shipments": [shipment]}
    refused = client.send_updates("order", [ship])
    assert (refused.success, refused.errors) == (
        False,
        ["Order 30 shipment 8: capture failed: the payment provider refused it (simulated)"],
    )
    assert not state(sim, "30").shipments["8"].shipped
    assert state(sim, "30").captures == 0
    sim.capture_fails = False
    ok(client.send_updates("order", [ship]))
    assert state(sim, "30").captures == 1


def test_refusals_over_http(sim: Simulator, client: CentraClient) -> None:
    """Unknown order, unknown orderitem, a size that is not the orderitem's, a wrong store."""
    sim.add_order(ORDER_25, order_id="25", type="wholesale")
    ids = {"id": "25", "type": "wholesale", "store": 2}

    def cancel(product: str, variation: str, size: str, orderitem: str) -> dict[str, Any]:
        row = {"id": size, "qty": "1", "orderitem": {"id": orderitem}}
        line = {"id": product, "variation": {"id": variation}, "sizes": [row]}
        return {**ids, "cancelled": [line]}

    cases = [
        ({**ids, "id": "2525", "locked": "yes"}, "Order 2525: no such order"),
        (cancel("T001", "T001_RED", "L", "7100"), "Order 25: unknown orderitem 7100"),
        (
            cancel("T001", "T001_RED", "M", "71"),
            "Order 25: orderitem 71 is T001/T001_RED/L, not T001/T001_RED/M",
        ),
        (
            {**ids, "store": 1, "locked": "yes"},
            "Order 25: <store> '1' does not match the order's '2'",
        ),
    ]
    for item, error in cases:
        result = client.send_updates("order", [item])
        assert (result.success, result.errors) == (False, [error])
    assert sim.queue() == ["1"], "refused updates queue no order event"
    assert state(sim, "25").rows["71"].cancelled == 0


def test_each_accepted_update_is_followed_by_the_order_event(
    sim: Simulator, client: CentraClient
) -> None:
    """The whole current order comes back as an order event after each change (§1.5), with
    what Centra changed itself (the capture); switched off, none is queued."""
    sim.add_order(ORDER_30, order_id="30", shipment="8")
    (placed,) = order_events(sim, client)
    assert placed["locked"] == "no" and placed["payments"]["status"] == "incomplete"
    ids = {"id": "30", "type": "retail", "store": 1}
    ok(client.send_updates("order", [{**ids, "locked": "yes"}]))
    ship = {"id": "8", "shipped": "yes", "capture": "yes", "carrierinformation": {"tracking": "T1"}}
    ok(client.send_updates("order", [{**ids, "shipments": [ship]}]))
    locked, shipped = order_events(sim, client)
    assert locked["id"] == "30" and locked["locked"] == "yes"
    assert locked["shipments"][0]["shipped"] == "no"
    (shipment,) = shipped["shipments"]
    assert (shipment["id"], shipment["shipped"], shipment["paid"]) == ("8", "yes", "yes")
    assert shipment["carrierinformation"]["tracking"] == "T1"
    assert shipped["payments"]["status"] == "success"
    assert [p["type"] for p in shipped["payments"]["payment"]] == ["auth", "capture"]
    sim.echo_orders = False
    ok(client.send_updates("order", [{**ids, "status": "completed"}]))
    assert state(sim, "30").status == "completed"
    assert sim.queue() == []


def test_generated_orders_can_be_updated(sim: Simulator, client: CentraClient) -> None:
    """An order from the generated stream is known and, once the ERP updated it, the stream
    takes no more steps of its life."""
    sim.add_generated(40)
    event = order_events(sim, client)[0]
    lock = {"id": event["id"], "type": event["type"], "store": int(event["store"]), "locked": "yes"}
    ok(client.send_updates("order", [lock]))
    order = state(sim, event["id"])
    assert order.locked
    assert event["products"][0]["sizes"][0]["orderitem"]["id"] in order.rows
    sim.add_generated(300)
    assert state(sim, event["id"]) == order


def test_pricelists_update_verbatim_keeps_prices_per_list(sim: Simulator) -> None:
    """The guide's pricelists_Update: variant and product prices, per pricelist (§2.2)."""
    success, errors, notices = send_capture(sim, "pricelists_update")
    assert (success, errors) == (True, [])
    assert notices == ["Added new pricelist: EUR-Retail", "Added new pricelist: USD-Wholesale"]
    retail, wholesale = sim.pricelist("EUR-Retail"), sim.pricelist("USD-Wholesale")
    assert retail is not None and wholesale is not None
    assert retail.variations[("T001", "T001_BLUE")].price == "234"
    assert retail.products["PWC"].price == "1000"
    red = wholesale.variations[("T001", "T001_RED")]
    assert (red.price, red.priceb, red.alteredprice, red.alteredpriceb) == (
        "45",
        "123",
        "50",
        "150",
    )
    assert sim.pricelist("SEK-Retail") is None

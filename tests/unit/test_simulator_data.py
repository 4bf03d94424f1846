"""The simulator's generated event stream, checked as plain data (no HTTP)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.simulator.data import GeneratedEvent, Generator

#: Top-level order elements in REF order (centra-soap.md §5).
REF_ORDER = (
    "id",
    "ordernumber",
    "type",
    "store",
    "locked",
    "status",
    "ordertotal",
    "currency",
    "currencyrate",
    "basecurrency",
    "created",
    "internal",
    "preferred_shipping_date",
    "buyer",
    "salesrep",
    "mastersalesrep",
    "account",
    "paymentterms",
    "shippingterms",
    "deliverywindow",
    "collection",
    "additionals",
    "primary_warehouse",
    "shipping",
    "handling",
    "voucher",
    "payments",
    "products",
    "cancelled",
    "shipments",
    "carrierinformation",
    "customer",
    "shippingaddress",
    "billingaddress",
    "internalinformation",
    "other",
    "ponumber",
    "market",
    "pricelist",
    "ecvatno",
)
IGNORED_KINDS = {"warehouse", "pricelist", "account", "market", "size", "salesrep", "invoice"}


@pytest.fixture(scope="module")
def stream() -> list[GeneratedEvent]:
    """A stream long enough for every kind and many order lives."""
    return Generator(seed=3).generate(600)


def orders(stream: list[GeneratedEvent]) -> list[dict[str, Any]]:
    return [e.payload for e in stream if e.type == "order"]


def rows(order: dict[str, Any], wrapper: str = "products") -> Iterator[dict[str, Any]]:
    for line in order[wrapper]["product"]:
        yield from line["sizes"]["size"]


def by_order(stream: list[GeneratedEvent]) -> dict[str, list[dict[str, Any]]]:
    lives: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for payload in orders(stream):
        lives[payload["id"]].append(payload)
    return lives


def test_same_seed_same_stream() -> None:
    """A seed fixes the whole stream, dates included, so a failing run can be replayed."""
    assert Generator(seed=11).generate(250) == Generator(seed=11).generate(250)


def test_other_seed_other_stream() -> None:
    """Different seeds give different data."""
    assert Generator(seed=1).generate(50) != Generator(seed=2).generate(50)


def test_stream_is_resumable_without_gaps() -> None:
    """Two calls of 100 give exactly what one call of 200 gives (nothing lost at the seam)."""
    first = Generator(seed=5)
    assert first.generate(100) + first.generate(100) == Generator(seed=5).generate(200)


def test_count_is_exact(stream: list[GeneratedEvent]) -> None:
    """The generator returns as many events as asked for."""
    assert len(stream) == 600


def test_order_lines_have_sizes_and_orderitem_ids(stream: list[GeneratedEvent]) -> None:
    """Every order line has sizes with quantities and an orderitem id unique within the order."""
    for order in orders(stream):
        assert order["products"]["product"], order["id"]
        items = [row["orderitem"]["id"] for row in rows(order)]
        assert len(items) == len(set(items)), order["id"]
        for line in order["products"]["product"]:
            assert line["sizes"]["size"]
            assert int(line["qty"]) == sum(int(row["qty"]) for row in line["sizes"]["size"])


def test_order_elements_follow_ref_order(stream: list[GeneratedEvent]) -> None:
    """Top-level order elements are a subset of REF's, in REF's order."""
    for order in orders(stream):
        positions = [REF_ORDER.index(key) for key in order]
        assert positions == sorted(positions), list(order)


def test_retail_and_wholesale_shapes(stream: list[GeneratedEvent]) -> None:
    """Retail orders are store 1 with a customer; wholesale are store 2 with account and buyer."""
    retail = [o for o in orders(stream) if o["type"] == "retail"]
    wholesale = [o for o in orders(stream) if o["type"] == "wholesale"]
    assert retail
    assert wholesale
    assert all(o["store"] == "1" and o["customer"]["id"] for o in retail)
    assert {o["currency"] for o in retail} == {"EUR", "SEK", "USD"}
    assert all(o["store"] == "2" and o["account"]["id"] and o["buyer"]["id"] for o in wholesale)
    assert all(
        o["shippingaddress"]["city"] and o["billingaddress"]["country"] for o in orders(stream)
    )
    assert all(
        o["payments"]["type"] == ("cc" if o["type"] == "retail" else "inv") for o in orders(stream)
    )


def test_wholesale_orders_arrive_pending_then_confirmed(stream: list[GeneratedEvent]) -> None:
    """A wholesale order's first event is ``pending``; a later event confirms it."""
    lives = [life for life in by_order(stream).values() if life[0]["type"] == "wholesale"]
    assert lives
    assert all(life[0]["status"] == "pending" for life in lives)
    confirmed = [life for life in lives if len(life) > 1]
    assert confirmed
    assert all(life[1]["status"] == "confirmed" for life in confirmed)


def test_later_events_carry_the_complete_order(stream: list[GeneratedEvent]) -> None:
    """Follow-up events repeat every line, row and address, not just what changed."""
    lives = [life for life in by_order(stream).values() if len(life) >= 3]
    assert lives
    for life in lives:
        first_rows = {row["orderitem"]["id"] for row in rows(life[0])}
        for later in life[1:]:
            assert {row["orderitem"]["id"] for row in rows(later)} == first_rows
            assert later["shippingaddress"] == life[0]["shippingaddress"]
            assert later["created"] == life[0]["created"]


def test_order_lives_include_shipment_cancellation_and_completion(
    stream: list[GeneratedEvent],
) -> None:
    """The stream shows shipments added, part of a line cancelled and orders completed."""
    payloads = orders(stream)
    assert any(o["shipments"]["shipment"] for o in payloads)
    assert any(
        o["status"] == "completed" and o["shipments"]["shipment"][0]["shipped"] == "yes"
        for o in payloads
    )
    cancelled = [o for o in payloads if o["cancelled"]["product"]]
    assert cancelled
    for order in cancelled:
        still_ordered = {row["orderitem"]["id"]: int(row["qty"]) for row in rows(order)}
        for row in rows(order, "cancelled"):
            assert still_ordered[row["orderitem"]["id"]] >= 1, "only part of a line is cancelled"


def test_cancellation_keeps_quantities_consistent(stream: list[GeneratedEvent]) -> None:
    """Ordered now plus cancelled equals what was ordered first, row by row."""
    for life in by_order(stream).values():
        original = {row["orderitem"]["id"]: int(row["qty"]) for row in rows(life[0])}
        latest = life[-1]
        now = {row["orderitem"]["id"]: int(row["qty"]) for row in rows(latest)}
        for row in rows(latest, "cancelled"):
            now[row["orderitem"]["id"]] += int(row["qty"])
        assert now == original


def test_mix_contains_kinds_a_bridge_ignores(stream: list[GeneratedEvent]) -> None:
    """Besides orders and customers the stream has every other kind Centra emits."""
    kinds = {e.type for e in stream}
    assert {"order", "customer"} <= kinds
    assert kinds >= IGNORED_KINDS


def test_customers_are_flat(stream: list[GeneratedEvent]) -> None:
    """Customer payloads have the flat §4.3 shape: no nested address."""
    customers = [e.payload for e in stream if e.type == "customer" and e.mission == "update"]
    assert customers
    for customer in customers:
        assert all(isinstance(value, str) for value in customer.values())
        assert customer["email"].endswith("@example.com")


def test_delete_events_carry_the_id(stream: list[GeneratedEvent]) -> None:
    """Now and then an object is deleted; its payload names it by id."""
    deletes = [e for e in stream if e.mission == "delete"]
    assert deletes
    assert all(e.payload["id"] == e.entry for e in deletes)


def test_events_are_dated_in_order(stream: list[GeneratedEvent]) -> None:
    """Event dates use Centra's captured format and never go backwards."""
    dates = [e.date for e in stream]
    assert dates == sorted(dates)
    assert all(len(date) == 19 and date[10] == " " for date in dates)


def test_entry_is_the_centra_id(stream: list[GeneratedEvent]) -> None:
    """Order and customer events name the object by Centra's number in ``entry``."""
    for event in stream:
        if event.type in {"order", "customer"}:
            assert event.entry == event.payload["id"]
        assert event.entry.isdigit()

"""The simulator's order semantics for orders_Update, without HTTP (centra-next.md §1)."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from bridge.simulator.catalog import MARKETS, PLACES
from bridge.simulator.masterdata import new_person
from bridge.simulator.orderbook import OrderBook, OrderRow, build_order, ship_everything
from bridge.simulator.orders import order_payload

WHOLESALE = next(m for m in MARKETS if m.type == "wholesale")
RETAIL = next(m for m in MARKETS if m.id == "Retail-EU")
#: Order 25 of the guide's wholesale walk-through (§1.3), by orderitem.
ORDER_25 = [
    OrderRow("PWC", "PWC", "OS", 2, orderitem="67"),
    OrderRow("T001", "T001_BLUE", "S", 1, orderitem="68"),
    OrderRow("T001", "T001_BLUE", "M", 2, orderitem="69"),
    OrderRow("T001", "T001_RED", "M", 3, orderitem="70"),
    OrderRow("T001", "T001_RED", "L", 4, orderitem="71"),
]
WHOLESALE_IDS = {"id": "25", "type": "wholesale", "store": "2"}
RETAIL_IDS = {"id": "30", "type": "retail", "store": "1"}


def book_with_orders() -> OrderBook:
    """A book knowing wholesale order 25 (§1.3) and retail order 30 with Centra's shipment 8."""
    book = OrderBook(now=lambda: "2024-09-02T08:00:00+01:00")
    person = new_person(random.Random(1), "3001", PLACES[0])
    book.add(order(WHOLESALE, "25", ORDER_25, person))
    retail = order(
        RETAIL,
        "30",
        [OrderRow("T001", "T001_RED", "S", 1, orderitem="81"), OrderRow("PWC", "PWC", "OS", 1)],
        person,
    )
    ship_everything(retail, "8", "2024-09-02T08:00:00+01:00")
    book.add(retail)
    return book


def order(market: Any, number: str, rows: list[OrderRow], person: Any) -> Any:
    with_ids = [(row, row.orderitem or f"{number}{n}") for n, row in enumerate(rows)]
    return build_order(
        number,
        market,
        person,
        with_ids,
        created="2024-09-01T10:00:00+01:00",
        status="pending" if market.type == "wholesale" else "confirmed",
        shipping=Decimal("123"),
        warehouse="Main-Warehouse",
    )


def row(product: str, variation: str, size: str, qty: int, orderitem: str | None) -> Any:
    size_el: dict[str, Any] = {"id": size, "qty": str(qty)}
    if orderitem is not None:
        size_el["orderitem"] = {"id": orderitem}
    return {"id": product, "variation": {"id": variation}, "sizes": {"size": [size_el]}}


def shipment(shipment_id: str, *rows: Any, **fields: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"id": shipment_id, **fields}
    if rows:
        value["products"] = {"product": list(rows)}
    return {"shipments": {"shipment": [value]}}


def update(book: OrderBook, *items: Any, capture_fails: bool = False) -> Any:
    return book.update(list(items), capture_fails=capture_fails)


def refused(book: OrderBook, item: Any, **kw: Any) -> list[str]:
    """The errors of a refused update, after checking nothing changed."""
    before = order_payload(book.get(item["id"]))  # type: ignore[arg-type]
    result = update(book, item, **kw)
    assert result.outcome.success is False
    assert result.changed == []
    assert order_payload(book.get(item["id"])) == before  # type: ignore[arg-type]
    return list(result.outcome.errors)


def test_the_wholesale_walk_through_leaves_nothing_open() -> None:
    """Confirm+lock, cancel 71x1, two shipments, shipped: §1.3's arithmetic, row by row."""
    book = book_with_orders()
    steps = [
        {**WHOLESALE_IDS, "status": "confirmed", "locked": "yes"},
        {**WHOLESALE_IDS, "cancelled": {"product": [row("T001", "T001_RED", "L", 1, "71")]}},
        {
            **WHOLESALE_IDS,
            **shipment(
                "shipment-25-1",
                row("T001", "T001_BLUE", "S", 1, "68"),
                row("T001", "T001_BLUE", "M", 1, "69"),
                row("PWC", "PWC", "OS", 2, "67"),
                shipped="no",
                goodtogo="yes",
                appendix="1",
                shipping={"subtotal": "123"},
            ),
        },
        {
            **WHOLESALE_IDS,
            **shipment(
                "shipment-25-2",
                row("T001", "T001_BLUE", "M", 1, "69"),
                row("T001", "T001_RED", "M", 3, "70"),
                row("T001", "T001_RED", "L", 3, "71"),
                shipped="no",
                goodtogo="yes",
                appendix="2",
            ),
        },
    ]
    open_after = [(2, 1, 2, 3, 4), (2, 1, 2, 3, 3), (0, 0, 1, 3, 3), (0, 0, 0, 0, 0)]
    for step, expected in zip(steps, open_after, strict=True):
        result = update(book, step)
        assert result.outcome.success, result.outcome.errors
        state = book.state("25")
        assert state is not None
        assert tuple(state.rows[oi].open for oi in ("67", "68", "69", "70", "71")) == expected
    shipped = {"carrierinformation": {"carrier": "DHL", "service": "EXPRESS", "tracking": "1"}}
    assert update(book, {**WHOLESALE_IDS, **shipment("shipment-25-1", shipped="yes", **shipped)})
    state = book.state("25")
    assert state is not None and state.locked and state.status == "confirmed"
    assert state.rows["71"].ordered == 4 and state.rows["71"].cancelled == 1
    assert state.shipments["shipment-25-1"].shipped and state.shipments["shipment-25-1"].tracking
    assert state.shipments["shipment-25-1"].shipping == Decimal("123")
    assert state.shipments["shipment-25-2"].shipping == Decimal("0")
    assert not state.shipments["shipment-25-2"].shipped
    assert state.captures == 0, "an invoice order has nothing to capture"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            {"cancelled": {"product": [row("T001", "T001_RED", "L", 5, "71")]}},
            "Order 25: cannot cancel 5 of orderitem 71: 4 open",
        ),
        (
            shipment("s1", row("PWC", "PWC", "OS", 3, "67")),
            "Order 25: cannot ship 3 of orderitem 67: 2 open",
        ),
        (
            shipment("s1", row("PWC", "PWC", "OS", 2, "67"), row("PWC", "PWC", "OS", 1, "67")),
            "Order 25: cannot ship 3 of orderitem 67: 2 open",
        ),
        (shipment("s1", row("PWC", "PWC", "OS", 1, "99")), "Order 25: unknown orderitem 99"),
        (
            shipment("s1", row("T001", "T001_BLUE", "S", 1, "67")),
            "Order 25: orderitem 67 is PWC/PWC/OS, not T001/T001_BLUE/S",
        ),
        (
            shipment("s1", row("PWC", "PWC", "OS", 1, None)),
            "Order 25: a row without <orderitem><id>; rows are addressed by orderitem",
        ),
        (shipment("s1"), "Order 25 shipment s1: a new shipment needs <products> with rows"),
        ({"type": "retail"}, "Order 25: <type> 'retail' does not match the order's 'wholesale'"),
        ({"store": "1"}, "Order 25: <store> '1' does not match the order's '2'"),
        ({"locked": "true"}, "Order 25: <locked> must be yes or no, got 'true'"),
        (
            {"status": "cancelled"},
            "Order 25: <status> 'cancelled' is not one of pending, confirmed, processing, "
            "completed",
        ),
    ],
)
def test_what_centra_would_refuse_is_refused_and_changes_nothing(
    change: dict[str, Any], error: str
) -> None:
    """Over-cancel, over-ship, unknown or mismatched orderitems, wrong type/store: refused."""
    book = book_with_orders()
    assert refused(book, {**WHOLESALE_IDS, **change}) == [error]


def test_type_and_store_are_required() -> None:
    """The cookbook sends id, type and store with every write-back (§1.1)."""
    assert refused(book_with_orders(), {"id": "25", "locked": "yes"}) == [
        "Order 25: <type> is required (the order's is wholesale)"
    ]


def test_one_refused_order_fails_alone() -> None:
    """In a call with several orders, the others are applied; success is false (U9)."""
    book = book_with_orders()
    result = update(
        book,
        {"id": "404", "type": "retail", "store": "1", "locked": "yes"},
        {**RETAIL_IDS, "locked": "yes"},
    )
    assert result.outcome.success is False
    assert result.outcome.errors == ["Order 404: no such order"]
    assert [o.number for o in result.changed] == ["30"]
    state = book.state("30")
    assert state is not None and state.locked


def test_capture_happens_once() -> None:
    """A second capture=yes has no effect, as the guide says; nor does the second resend."""
    book = book_with_orders()
    ship = {**RETAIL_IDS, **shipment("8", shipped="yes", capture="yes")}
    first = update(book, ship)
    assert first.outcome.success and len(first.changed) == 1
    again = update(book, ship)
    assert again.outcome.success and again.changed == []
    state = book.state("30")
    assert state is not None
    assert state.captures == 1 and state.shipments["8"].paid and state.shipments["8"].shipped


def test_a_failing_capture_refuses_the_whole_order_update() -> None:
    """With the switch on, shipped=yes + capture=yes is refused and the shipment stays unshipped."""
    book = book_with_orders()
    ship = {**RETAIL_IDS, **shipment("8", shipped="yes", capture="yes")}
    assert refused(book, ship, capture_fails=True) == [
        "Order 30 shipment 8: capture failed: the payment provider refused it (simulated)"
    ]
    assert update(book, ship).outcome.success
    state = book.state("30")
    assert state is not None and state.captures == 1


def test_resending_a_shipment_with_the_same_rows_is_harmless() -> None:
    """The same id and rows again change nothing; other rows under that id are refused."""
    book = book_with_orders()
    create = {**WHOLESALE_IDS, **shipment("s1", row("PWC", "PWC", "OS", 1, "67"), goodtogo="yes")}
    assert update(book, create).changed
    again = update(book, create)
    assert again.outcome.success and again.changed == []
    state = book.state("25")
    assert state is not None and state.rows["67"].in_shipments == 1
    other = {**WHOLESALE_IDS, **shipment("s1", row("PWC", "PWC", "OS", 2, "67"))}
    assert refused(book, other) == [
        "Order 25 shipment s1: already holds other rows; a shipment's rows cannot be changed"
    ]


def test_refund_ids_are_unique_across_orders() -> None:
    """The guide's refund (shipment 30-1 = appendix 1, row by ids); a resend is harmless, the
    same id for another refund is refused."""
    book = book_with_orders()
    assert update(book, {**RETAIL_IDS, **shipment("8", shipped="yes")}).outcome.success
    refund = {
        "refunds": {
            "refund": [
                {
                    "id": "12",
                    "status": "confirmed",
                    "products": {"product": [row("T001", "T001_RED", "S", 1, None)]},
                }
            ]
        }
    }
    item = {**RETAIL_IDS, "shipments": {"shipment": [{"id": "30-1", "appendix": "1", **refund}]}}
    assert update(book, item).outcome.success
    assert update(book, item).changed == []
    state = book.state("30")
    assert state is not None
    assert state.refunds["12"].shipment == "8" and state.refunds["12"].rows == {"81": 1}
    other = {**RETAIL_IDS, "shipments": {"shipment": [{"id": "8", **refund}]}}
    other["shipments"]["shipment"][0]["refunds"]["refund"][0]["products"] = {
        "product": [row("PWC", "PWC", "OS", 1, None)]
    }
    assert refused(book, other) == ["Refund id 12 is already used for another refund"]


def test_refunding_more_than_was_shipped_is_refused() -> None:
    """A refund row may not exceed what the shipment holds less what was refunded already."""
    book = book_with_orders()
    update(book, {**RETAIL_IDS, **shipment("8", shipped="yes")})
    refund = {
        "id": "13",
        "products": {"product": [row("T001", "T001_RED", "S", 2, None)]},
    }
    item = {**RETAIL_IDS, "shipments": {"shipment": [{"id": "8", "refunds": {"refund": [refund]}}]}}
    assert refused(book, item) == [
        "Order 30 shipment 8: refund 13: orderitem 81 has 1 left to refund, not 2"
    ]

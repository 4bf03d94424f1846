"""The rules an order update keeps before it is queued, on an order copy in memory.

Order 25 as its event shows it: row 71 was 4, one is cancelled, so the row shows 3 and the
cancelled one is listed under ``cancelled``.
"""

from __future__ import annotations

import pytest

from bridge.outbox.orders import OrderProblem, complete, expand_action, state_of, stock_record

COPY = {
    "id": "25",
    "type": "wholesale",
    "store": "2",
    "products": [
        {
            "id": "T001",
            "variation": {"id": "T001_RED"},
            "sizes": [
                {"id": "M", "qty": "3", "orderitem": {"id": "70"}},
                {"id": "L", "qty": "3", "orderitem": {"id": "71"}},
            ],
        }
    ],
    "cancelled": [
        {
            "id": "T001",
            "variation": {"id": "T001_RED"},
            "sizes": [{"id": "L", "qty": "1", "orderitem": {"id": "71"}}],
        }
    ],
    "shipments": [
        {
            "id": "shipment-25-1",
            "shipped": "no",
            "products": [
                {
                    "id": "T001",
                    "variation": {"id": "T001_RED"},
                    "sizes": [{"id": "M", "qty": "2", "orderitem": {"id": "70"}}],
                }
            ],
        }
    ],
}


def test_open_quantity_counts_cancelled_shipped_and_queued() -> None:
    """Row 70: 3 ordered, 2 in a shipment, 1 in a queued update: nothing left to cancel."""
    queued = expand_action("shipment", {"order": "25", "id": "shipment-25-2", "items": {"70": 1}})
    state = state_of("25", COPY, [queued])
    assert (state.rows["70"].open, state.rows["71"].open) == (0, 3)
    with pytest.raises(OrderProblem) as refused:
        complete(state, expand_action("cancel", {"order": "25", "items": {"70": 1}}))
    assert str(refused.value) == (
        "cancelled[0].sizes[0].qty: orderitem 70 cancels 1, but 0 is open "
        "(on the order 3, in shipments 3, cancelled by updates not yet sent 0)"
    )


def test_records_of_one_input_take_their_rows_in_turn() -> None:
    """Two shipments of the same three pieces: the first is filled in, the second refused."""
    state = state_of("25", COPY, [])
    first = complete(
        state, expand_action("shipment", {"order": "25", "id": "S2", "items": {"71": 3}})
    )
    assert first["shipments"][0]["products"] == [
        {
            "id": "T001",
            "variation": {"id": "T001_RED"},
            "sizes": [{"id": "L", "qty": "3", "orderitem": {"id": "71"}}],
        }
    ]
    assert (first["type"], first["store"]) == ("wholesale", "2")
    with pytest.raises(OrderProblem, match="ships 1, but 0 is open"):
        complete(state, expand_action("shipment", {"order": "25", "id": "S3", "items": {"71": 1}}))


def test_shipping_an_existing_shipment_needs_no_rows_and_an_unknown_one_is_refused() -> None:
    state = state_of("25", COPY, [])
    shipped = expand_action(
        "shipment", {"order": "25", "id": "shipment-25-1", "carrier": "DHL", "tracking": "87"}
    )
    assert complete(state, shipped)["shipments"] == [
        {
            "id": "shipment-25-1",
            "shipped": "yes",
            "carrierinformation": {"carrier": "DHL", "tracking": "87"},
        }
    ]
    with pytest.raises(OrderProblem, match="shipment nope is not in order 25"):
        complete(state, expand_action("shipment", {"order": "25", "id": "nope"}))


def test_refunds_need_a_new_id_and_shipped_pieces() -> None:
    state = state_of("25", COPY, [])
    refund = {"order": "25", "shipment": "shipment-25-1", "id": "12", "items": {"70": 2}}
    done = complete(state, expand_action("refund", refund))
    assert done["shipments"][0]["refunds"] == [
        {
            "id": "12",
            "status": "confirmed",
            "products": [
                {"id": "T001", "variation": {"id": "T001_RED"}, "sizes": [{"id": "M", "qty": "2"}]}
            ],
        }
    ]
    with pytest.raises(OrderProblem, match="refund 12 exists already"):
        complete(state, expand_action("refund", refund))
    with pytest.raises(OrderProblem, match="refunds 1, but 0 was shipped and not refunded"):
        complete(state, expand_action("refund", {**refund, "id": "13", "items": {"70": 1}}))


@pytest.mark.parametrize(
    ("kind", "record", "problem"),
    [
        ("lock", {"order": ""}, "order: required: a non-empty id"),
        ("cancel", {"order": "25"}, "items: required"),
        ("cancel", {"order": "25", "items": {"71": 0}}, "must be a whole number above 0"),
        (
            "shipment",
            {"order": "25", "id": "S", "capture": "yes"},
            "capture: must be true or false",
        ),
        ("confirm", {"order": "25", "locked": True}, "locked: unknown field for a confirm record"),
    ],
)
def test_bad_action_records_name_the_field(
    kind: str, record: dict[str, object], problem: str
) -> None:
    state = state_of("25", COPY, [])
    with pytest.raises(OrderProblem) as refused:
        complete(state, expand_action(kind, record))
    assert problem in str(refused.value)


def test_type_and_store_must_match_the_order() -> None:
    with pytest.raises(OrderProblem, match="order 25 is store '2', not '1'"):
        complete(state_of("25", COPY, []), {"id": "25", "store": "1", "locked": "yes"})


def test_confirm_and_lock_and_a_stock_record() -> None:
    assert expand_action("confirm", {"order": "25", "lock": True}) == {
        "id": "25",
        "status": "confirmed",
        "locked": "yes",
    }
    assert stock_record(
        {"product": "P1", "variant": "P1-R", "size": "M", "warehouse": "W1", "qty": 4}
    ) == {
        "id": "P1",
        "variations": [
            {"id": "P1-R", "sizes": [{"id": "M", "warehouseitems": [{"id": "W1", "qty": "4"}]}]}
        ],
    }

"""The simulator's update store: Centra's partial-update rule and the ID conversion table."""

from __future__ import annotations

from bridge.simulator.store import ObjectStore, merge


def test_merge_keeps_what_is_not_sent() -> None:
    """Present elements replace, absent ones stay, nested dicts merge key by key."""
    old = {
        "id": "1",
        "firstname": "Anna",
        "lastname": "Berg",
        "weight": {"value": "1", "unit": "kg"},
    }
    new = {"id": "1", "firstname": "Annika", "weight": {"value": "2"}}
    assert merge(old, new) == {
        "id": "1",
        "firstname": "Annika",
        "lastname": "Berg",
        "weight": {"value": "2", "unit": "kg"},
    }


def test_merge_matches_repeated_items_by_id() -> None:
    """Items with ids merge with the item of the same id; new ids are appended."""
    old = {"variation": [{"id": "A", "description": "Red"}, {"id": "B", "description": "Blue"}]}
    new = {"variation": [{"id": "B", "sku": "BLU"}, {"id": "C", "description": "Green"}]}
    assert merge(old, new) == {
        "variation": [
            {"id": "A", "description": "Red"},
            {"id": "B", "description": "Blue", "sku": "BLU"},
            {"id": "C", "description": "Green"},
        ]
    }


def test_merge_replaces_lists_without_ids() -> None:
    """Repeated items without ids cannot be matched, so the new list replaces the old one."""
    assert merge({"message": ["a", "b"]}, {"message": ["c"]}) == {"message": ["c"]}


def test_upsert_creates_then_updates() -> None:
    """The first upsert creates and notes it; the second only changes what it sends."""
    store = ObjectStore()
    created = store.upsert("product", [{"id": "P1", "description": "Tee", "sku": "T1"}])
    assert (created.success, created.notices) == (True, ["Added new product: P1"])
    changed = store.upsert("product", [{"id": "P1", "sku": "T2"}])
    assert (changed.success, changed.errors, changed.notices) == (True, [], [])
    assert store.get("product") == {"P1": {"id": "P1", "description": "Tee", "sku": "T2"}}


def test_conversion_table_gives_each_erp_id_its_own_internal_id() -> None:
    """Internal ids are numeric, per kind, stable across updates."""
    store = ObjectStore()
    store.upsert("product", [{"id": "P1"}, {"id": "P2"}])
    store.upsert("product", [{"id": "P1", "sku": "x"}])
    store.upsert("customer", [{"id": "C1"}])
    assert store.conversion_table("product") == {"P1": "1", "P2": "2"}
    assert store.conversion_table("customer") == {"C1": "1"}


def test_item_without_id_fails_alone() -> None:
    """A missing or blank id is an error for that item only (U9)."""
    store = ObjectStore()
    outcome = store.upsert("customer", [{"firstname": "x"}, {"id": " "}, {"id": "C1"}])
    assert not outcome.success
    assert outcome.errors == [
        "customer #1: missing <id>, customer not saved",
        "customer #2: missing <id>, customer not saved",
    ]
    assert list(store.get("customer")) == ["C1"]


def test_returned_objects_are_copies() -> None:
    """Changing what ``get`` returned does not change the store."""
    store = ObjectStore()
    store.upsert("product", [{"id": "P1", "weight": {"value": "1"}}])
    store.get("product")["P1"]["weight"]["value"] = "99"
    assert store.get("product")["P1"]["weight"] == {"value": "1"}

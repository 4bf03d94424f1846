"""The id-map rules without a database: conflicts, linking, translation, CSV."""

from __future__ import annotations

import pytest

from bridge.outbox.id_rules import Change, IdConflict, centra_id_for, parse_csv, plan_set, to_csv
from bridge.store.idmap import Link

C1001 = Link("customer", "C1001", "4711", "manual")
WAITING = Link("customer", None, "4711", "centra")


def test_new_pair_is_inserted_and_the_same_pair_is_unchanged() -> None:
    """Setting a pair twice is harmless."""
    assert plan_set(None, None, "C1001", "4711") is Change.INSERT
    assert plan_set(C1001, C1001, "C1001", "4711") is Change.UNCHANGED


def test_centra_id_waiting_for_an_erp_id_is_linked() -> None:
    """A Centra id seen in an event gets its ERP id filled in."""
    assert plan_set(None, WAITING, "C1001", "4711") is Change.LINK


def test_second_partner_either_way_is_a_conflict() -> None:
    """One ERP id to two Centra ids, or the reverse, is refused with what to do."""
    with pytest.raises(IdConflict, match=r"already mapped to Centra id 4711.*ids remove"):
        plan_set(C1001, None, "C1001", "9999")
    with pytest.raises(IdConflict, match="Centra id 4711 is already mapped to ERP id C1001"):
        plan_set(None, C1001, "C2002", "4711")


def test_translation() -> None:
    """Mapped ids translate; unmapped ones go as-is unless that id is someone else's."""
    assert centra_id_for(C1001, None, "C1001") == "4711"
    assert centra_id_for(None, None, "P1") == "P1"
    with pytest.raises(IdConflict, match="belongs to ERP id C1001"):
        centra_id_for(None, C1001, "4711")
    with pytest.raises(IdConflict, match=r"is an object Centra created.*ids set customer 4711"):
        centra_id_for(None, WAITING, "4711")


def test_csv_round_trip_and_errors() -> None:
    """Export output imports again; bad rows and clashes name file and line."""
    rows = [C1001, Link("customer", None, "4712", "centra")]
    assert parse_csv(to_csv(rows), "ids.csv") == rows
    bad = "entity_type,erp_id,centra_id\norder,O1,1\ncustomer,C1,1\ncustomer,C1,2\n"
    with pytest.raises(ValueError) as refused:
        parse_csv(bad, "ids.csv")
    assert str(refused.value).splitlines() == [
        "ids.csv:2: entity type must be one of customer, product, got 'order'",
        "customer ERP id C1 is given two Centra ids (1, 2)",
    ]
    with pytest.raises(ValueError, match=r"ids\.csv:1: header must name"):
        parse_csv("erp,centra\n", "ids.csv")

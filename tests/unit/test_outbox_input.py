"""JSON Lines checking and the echo rule, without sockets or a database."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from event_xml import main_codec

from bridge.outbox.dryrun import batches
from bridge.outbox.echo import expected_fields, flatten, is_echo, reflects
from bridge.outbox.input import InputError, parse_lines

CODEC = main_codec()


def test_records_keep_only_the_fields_given() -> None:
    """A line becomes one record; numbers as ids become text; blank lines are skipped."""
    text = '\ufeff{"type": "customer", "id": 1001, "firstname": "Ada"}\n\n'
    (record,) = parse_lines(text, "in.jsonl", CODEC)
    assert (record.entity_type, record.erp_id, record.source) == ("customer", "1001", "in.jsonl:1")
    assert record.fields == {"id": "1001", "firstname": "Ada"}


def test_every_bad_line_is_named_with_file_line_and_field() -> None:
    """All problems of a file come back at once, each as file:line: field: problem."""
    text = "\n".join(
        [
            '{"type": "customer", "id": "C1", "firstname": "Ada"}',
            '{"type": "product", "id": "P1", "variations": [{"id": "V1", "colour": "red"}]}',
            '{"type": "customer", "id": "C2", "lastname": null}',
            '{"type": "invoice", "id": "O1"}',
            '{"type": "customer", "firstname": "Bo"}',
            "[1, 2]",
            '{"type": "customer", "id": "C3"',
        ]
    )
    with pytest.raises(InputError) as refused:
        parse_lines(text, "in.jsonl", CODEC)
    assert [str(problem) for problem in refused.value.problems] == [
        "in.jsonl:2: variations[0].colour: unknown field (Variation has no element 'colour'; "
        "valid: cog, description, displays, id, sizes, sizetable, sku, status, stockid)",
        "in.jsonl:3: lastname: null is not a value: leave the field out to keep it unchanged, "
        'or send "" to clear it',
        "in.jsonl:4: type: must be one of cancel, confirm, customer, lock, order, price, "
        "pricelist, product, refund, shipment, stock, got 'invoice'",
        "in.jsonl:5: id: required: the ERP's id of the object, a non-empty string",
        "in.jsonl:6: -: must be a JSON object, got list",
        "in.jsonl:7: -: not valid JSON: Expecting ',' delimiter (column 32)",
    ]


def test_dry_run_puts_a_second_update_of_an_object_in_a_later_call() -> None:
    """As a push does: one update per object and call, in queued order."""
    lines = "\n".join(
        f'{{"type": "product", "id": "{i}", "sku": "{n}"}}'
        for n, i in enumerate(["A", "A", "B", "A"])
    )
    grouped = batches(parse_lines(lines, "in", CODEC), 10)
    assert [[(r.erp_id, r.fields["sku"]) for r in call] for call in grouped] == [
        [("A", "0"), ("B", "2")],
        [("A", "1")],
        [("A", "3")],
    ]


def test_dry_run_batches_per_type_and_size() -> None:
    """Records are grouped by type, then cut to the batch size, order kept."""
    lines = "\n".join(
        f'{{"type": "{kind}", "id": "{n}"}}'
        for n, kind in enumerate(["product", "customer", "product", "product"])
    )
    grouped = batches(parse_lines(lines, "in", CODEC), 2)
    assert [[record.erp_id for record in batch] for batch in grouped] == [["0", "2"], ["3"], ["1"]]


class TestEcho:
    """The echo rule of bridge.outbox.echo."""

    before: ClassVar[dict[str, str]] = {
        "id": "4711",
        "firstname": "Ada",
        "email": "ada@example.com",
    }
    pushed: ClassVar[dict[str, str]] = expected_fields([{"id": "C1001", "firstname": "Augusta"}])

    def test_flatten_keys_lists_by_id_and_writes_numbers_as_text(self) -> None:
        """Stock pushed as a number matches the text Centra sends back."""
        flat = flatten(
            {
                "id": "P",
                "variations": [
                    {"id": "V", "sizes": [{"id": "S", "warehouseitems": [{"id": "W", "qty": 5}]}]}
                ],
            }
        )
        assert flat["variations[id=V].sizes[id=S].warehouseitems[id=W].qty"] == "5"
        assert "id" not in flat

    def test_an_event_showing_only_the_push_is_an_echo(self) -> None:
        """Only the pushed field changed, to the pushed value."""
        assert is_echo({**self.before, "firstname": "Augusta"}, self.before, self.pushed)

    def test_any_other_change_is_delivered(self) -> None:
        """A change the bridge did not push makes the event an ordinary one."""
        event = {**self.before, "firstname": "Augusta", "email": "new@example.com"}
        assert reflects(event, self.pushed)
        assert not is_echo(event, self.before, self.pushed)

    def test_a_different_value_is_not_an_echo(self) -> None:
        """Someone changed the pushed field again in Centra."""
        assert not is_echo({**self.before, "firstname": "Ann"}, self.before, self.pushed)

    def test_without_a_previous_state_only_a_pure_echo_counts(self) -> None:
        """Never seen before: every field is new, so the event is delivered."""
        assert not is_echo({**self.before, "firstname": "Augusta"}, None, self.pushed)
        assert is_echo({"id": "4711", "firstname": "Augusta"}, None, self.pushed)


def test_wrong_types_and_overlong_ids_are_named() -> None:
    """true/false for text, text for a number, and an id too long to keep are each refused."""
    text = "\n".join(
        [
            '{"type": "customer", "id": "C1", "firstname": true}',
            '{"type": "customer", "id": "C2", "store": "main"}',
            '{"type": "customer", "id": "' + "C" * 256 + '"}',
            '{"type": "customer", "id": "C4", "store": "2", "firstname": 7}',
        ]
    )
    with pytest.raises(InputError) as refused:
        parse_lines(text, "in.jsonl", CODEC)
    assert [str(problem) for problem in refused.value.problems] == [
        "in.jsonl:1: firstname: expected text, got true/false",
        "in.jsonl:2: store: expected a whole number, got 'main'",
        "in.jsonl:3: id: too long: 256 characters, at most 255",
    ]


def test_the_first_twenty_problems_are_listed_and_the_rest_counted() -> None:
    """A file of bad lines answers with its first twenty problems and a count of the rest,
    not thousands of lines (nor the memory to hold them)."""
    lines = "\n".join('{"type": "customer", "id": ""}' for _ in range(25))
    with pytest.raises(InputError) as refused:
        parse_lines(lines, "big.jsonl", CODEC)
    details = refused.value.details()
    assert len(details) == 21
    assert details[19].startswith("big.jsonl:20: id: required")
    assert details[20] == "big.jsonl: … and 5 more problems"
    assert str(refused.value).endswith("big.jsonl: … and 5 more problems")
    assert refused.value.summary() == "nothing queued: fix the lines above and push again"


def test_a_value_too_long_for_centra_is_refused_at_input() -> None:
    """A 200,000-character description is refused with its path, never queued to die."""
    line = json.dumps({"type": "product", "id": "P1", "description": "x" * 200_000})
    with pytest.raises(InputError) as refused:
        parse_lines(line, "feed.jsonl", CODEC)
    assert str(refused.value) == (
        "feed.jsonl:1: description: too long: 200000 characters, at most 100000"
    )

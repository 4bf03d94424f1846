""" "What happened to order 1003?" answered by the command line, as a new user would ask it:
a real drain from the simulator with a failing custom handler, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bridge_process
import pytest
from erp_double import POISON_ENV

from bridge.errors import ExitCode
from bridge.simulator import Simulator
from bridge.simulator.app import Reply, Request
from bridge.simulator.soap import CENTRA_NS, result_reply

PASSWORD = "pw-lookups-31b7-never-print-me"
#: What the poison handler says when it refuses order 1003.
REFUSAL = "ValueError: ERP cannot book order 1003: unknown VAT code"


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=5) as running:
        yield running


def order(order_id: str, status: str) -> dict[str, Any]:
    return {"id": order_id, "ordernumber": order_id, "status": status, "currency": "EUR"}


class Bridge:
    """``centra-bridge --config FILE …`` against one store, the way an operator types it."""

    def __init__(self, tmp_path: Path, simulator: Simulator, database_url: str) -> None:
        self.sink = tmp_path / "erp-in"
        self.sink.mkdir()
        extra = (
            "[handlers]\nmax_attempts = 2\nretry_base = 3600\nretry_max = 3600\n"
            '[handlers.custom]\norder = "erp_double:poison_order"\n'
            f'[sinks.order]\nkind = "directory"\npath = "{self.sink}"\n'
        )
        config = bridge_process.write_config(tmp_path, simulator.url, PASSWORD, extra)
        config.write_text(config.read_text().replace("sqlite:///bridge.db", database_url))
        self.config = config

    def __call__(self, *args: str, poison: str = "") -> subprocess.CompletedProcess[str]:
        result = bridge_process.run_bridge(
            "--config", str(self.config), *args, env={POISON_ENV: poison}
        )
        assert PASSWORD not in result.stdout + result.stderr
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode == ExitCode.OK, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def drained(tmp_path: Path, simulator: Simulator, database_url: str) -> Bridge:
    """Orders 1003 (twice) and 1004 drained while the ERP refuses order 1003."""
    simulator.add_event("order", order("1003", "pending"), mission="insert")
    simulator.add_event("order", order("1003", "confirmed"))
    simulator.add_event("order", order("1004", "confirmed"), mission="insert")
    bridge = Bridge(tmp_path, simulator, database_url)
    result = bridge("drain-events", poison="1003")
    assert result.returncode == ExitCode.OK, result.stderr
    return bridge


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("centra-bridge: ") and text in last, result.stderr


def test_events_show_tells_what_happened_to_an_order(drained: Bridge) -> None:
    """Given a drain where the ERP refused order 1003, events show order 1003 gives both
    events oldest first with the error and the times, and no copy, without any SQL."""
    story = drained.json("events", "show", "order", "1003")
    events = story["events"]
    assert [e["mission"] for e in events] == ["insert", "update"]
    for event in events:
        assert (event["status"], event["attempts"], event["error"]) == ("failed", 1, REFUSAL)
        assert event["received_at"] and event["acknowledged_at"] and event["handled_at"]
        assert event["delivered_to"] is None and event["echo"] is False
    assert story["copy"] is None and story["outbox"] == [] and story["mappings"] == []

    text = drained("events", "show", "order", "1003")
    assert text.returncode == ExitCode.OK, text.stderr
    assert "events (2, oldest first)" in text.stdout
    assert f"error: {REFUSAL}" in text.stdout
    assert "ERP-facing copy: none" in text.stdout


def test_events_show_tells_where_a_delivered_order_went(drained: Bridge) -> None:
    """A handled order shows where its sink wrote it, and the copy the ERP reads."""
    story = drained.json("events", "show", "order", "1004")
    (event,) = story["events"]
    assert event["status"] == "handled" and event["error"] is None
    delivered = Path(event["delivered_to"].removeprefix("file "))
    assert delivered.parent == drained.sink and delivered.is_file()
    assert story["copy"]["status"] == "confirmed"
    assert story["copy"]["written_by_event"] == event["event_id"]


def test_events_show_one_event_with_its_xml(drained: Bridge) -> None:
    """events show EVENT_ID gives that event alone, with the XML as stored."""
    first = drained.json("events", "show", "order", "1003")["events"][0]["event_id"]
    detail = drained.json("events", "show", first)
    assert detail["event_id"] == first and detail["status"] == "failed"
    assert "<" in detail["xml"] and "1003" in detail["xml"]
    text = drained("events", "show", first).stdout
    assert text.startswith(f"event {first}  order 1003  insert  failed, 1 attempt")


def test_events_list_says_what_failed_and_how_many_more(drained: Bridge) -> None:
    """events list --status failed lists 1003's events with object and error; a cut list
    says how many more there are."""
    page = drained.json("events", "list", "--status", "failed")
    assert [(e["object_id"], e["error"]) for e in page["events"]] == [("1003", REFUSAL)] * 2
    assert (page["total"], page["more"]) == (2, 0)
    cut = drained("events", "list", "--status", "failed", "--limit", "1")
    assert cut.returncode == ExitCode.OK, cut.stderr
    assert cut.stdout.splitlines()[-1] == "… 1 more (--offset 1 shows the next ones)"
    assert "ValueError: ERP cannot book order 1003" in cut.stdout
    rest = drained.json("events", "list", "--status", "failed", "--limit", "1", "--offset", "1")
    assert (len(rest["events"]), rest["more"]) == (1, 0)


def test_retry_leaves_the_handling_to_the_service(drained: Bridge) -> None:
    """events retry makes 1003's events due with attempts reset and handles nothing itself;
    the next drain (the ERP fixed) handles them, and the note says who retried."""
    ids = [e["event_id"] for e in drained.json("events", "show", "order", "1003")["events"]]
    retried = drained("events", "retry", *ids)
    assert retried.returncode == ExitCode.OK, retried.stderr
    assert retried.stdout.startswith("2 events due again, attempts reset; no service holds")
    assert "user" in retried.stderr and getpass.getuser() in retried.stderr
    waiting = drained.json("events", "show", "order", "1003")["events"]
    assert [(e["status"], e["attempts"]) for e in waiting] == [("new", 0)] * 2

    assert drained("drain-events").returncode == ExitCode.OK
    story = drained.json("events", "show", "order", "1003")
    assert [e["status"] for e in story["events"]] == ["handled", "handled"]
    assert all(e["note"].startswith(f"retried by {getpass.getuser()} at ") for e in story["events"])
    assert story["copy"]["status"] == "confirmed"


def test_retry_by_status_and_refusals(drained: Bridge) -> None:
    """retry --status failed takes every failed event; a handled event is refused with one
    line, and nothing changes."""
    handled = drained.json("events", "show", "order", "1004")["events"][0]["event_id"]
    failed = drained.json("events", "show", "order", "1003")["events"][0]["event_id"]
    assert_one_line_error(drained("events", "retry", failed, handled), f"{handled} is handled")
    assert drained.json("events", "show", failed)["status"] == "failed"
    assert drained.json("events", "retry", "--status", "failed")["retried"] == 2


def test_skip_parks_an_event_with_the_reason(drained: Bridge) -> None:
    """events skip sets 1003's events aside with the reason and the user; no drain runs
    them again, and status counts them as skipped."""
    ids = [e["event_id"] for e in drained.json("events", "show", "order", "1003")["events"]]
    skipped = drained("events", "skip", *ids, "--reason", "booked by hand in the ERP")
    assert skipped.returncode == ExitCode.OK, skipped.stderr
    assert skipped.stdout.strip() == "2 events skipped: no handler runs them again"
    assert "booked by hand in the ERP" in skipped.stderr and getpass.getuser() in skipped.stderr
    assert drained("drain-events").returncode == ExitCode.OK
    for event in drained.json("events", "show", "order", "1003")["events"]:
        assert event["status"] == "skipped" and event["attempts"] == 1
        assert event["note"].endswith(": booked by hand in the ERP")
        assert getpass.getuser() in event["note"]
    assert drained.json("status")["events"]["by_status"]["skipped"] == 2
    assert_one_line_error(
        drained("events", "skip", ids[0], "--reason", "  "), "--reason must say why"
    )


def test_unknown_names_are_one_line(drained: Bridge) -> None:
    """An unknown type, object or event id, or too many names, is one line naming it, exit 2."""
    for args, text in [
        (("order", "99999"), "nothing stored for order 99999"),
        (("ordr", "1003"), "unknown type 'ordr'"),
        (("424242",), "no stored event with id 424242"),
        (("order", "1003", "extra"), "give EVENT_ID, or TYPE OBJECT_ID"),
    ]:
        assert_one_line_error(drained("events", "show", *args), text)


def test_outbox_lookups_retry_and_skip(
    tmp_path: Path, simulator: Simulator, database_url: str
) -> None:
    """Given twelve customer updates Centra refused, outbox list and show give Centra's
    messages, status says how many it did not list, skip parks one with the reason, and
    retry makes one due for the next push, which sends it."""

    def refuse(request: Request) -> Reply | None:
        if request.operation == "customers_Update":
            return Reply(200, result_reply(CENTRA_NS, False, ["Unknown store 9"]))
        return None

    simulator.faults.append(refuse)
    bridge = Bridge(tmp_path, simulator, database_url)
    updates = tmp_path / "customers.jsonl"
    updates.write_text(
        "".join(
            json.dumps({"type": "customer", "id": f"C{n}", "firstname": "Ada"}) + "\n"
            for n in range(1001, 1013)
        ),
        encoding="utf-8",
    )
    assert bridge("push", str(updates)).returncode == ExitCode.PARTIAL

    page = bridge.json("outbox", "list", "--status", "failed", "--limit", "5")
    assert (page["total"], page["more"], len(page["records"])) == (12, 7, 5)
    assert all(r["errors"] == ["Unknown store 9"] for r in page["records"])
    status = bridge("status")
    assert "… 2 more failed or dead (centra-bridge outbox list" in status.stdout

    first = bridge.json("events", "show", "customer", "C1001")["outbox"][0]
    shown = bridge("outbox", "show", str(first["id"]))
    assert shown.returncode == ExitCode.OK, shown.stderr
    assert "centra error: Unknown store 9" in shown.stdout and '"firstname": "Ada"' in shown.stdout

    skipped = bridge("outbox", "skip", str(first["id"]), "--reason", "customer closed")
    assert skipped.returncode == ExitCode.OK, skipped.stderr
    assert bridge.json("outbox", "show", str(first["id"]))["status"] == "skipped"

    simulator.faults.clear()
    second = bridge.json("events", "show", "customer", "C1002")["outbox"][0]["id"]
    retried = bridge("outbox", "retry", str(second))
    assert retried.returncode == ExitCode.OK, retried.stderr
    assert retried.stdout.startswith("1 record due again, attempts reset; no service holds")
    assert bridge("push").returncode == ExitCode.OK
    record = bridge.json("outbox", "show", str(second))
    assert (record["status"], record["errors"]) == ("sent", [])
    assert record["note"].startswith(f"retried by {getpass.getuser()} at ")
    assert "C1002" in simulator.customers and "C1001" not in simulator.customers
    assert_one_line_error(bridge("outbox", "show", "999"), "no outbox record #999")

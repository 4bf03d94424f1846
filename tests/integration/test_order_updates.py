"""The order lifecycle back to Centra: action records checked against the local order copy,
filled in with what Centra needs, one order per orders_Update."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_process import run_bridge, write_config
from daemon_harness import Daemon
from lxml import etree
from test_push_cli import bodies, write_lines

from bridge.errors import ExitCode
from bridge.simulator import Hold, OrderRow, Simulator

PASSWORD = "orders-pw-4e1a"

#: A DTC order with three rows: two sizes of a red T-shirt and three of a cap.
ROWS = [
    OrderRow("T001", "T001_RED", "S", 2, orderitem="301"),
    OrderRow("T001", "T001_RED", "M", 1, orderitem="302"),
    OrderRow("PWC", "PWC", "OS", 3, orderitem="303"),
]


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=7) as running:
        yield running


def bridge_config(tmp_path: Path, simulator: Simulator, database_url: str, extra: str = "") -> str:
    path = write_config(tmp_path, simulator.url, PASSWORD, extra)
    text = path.read_text(encoding="utf-8").replace("sqlite:///bridge.db", database_url)
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def config(tmp_path: Path, simulator: Simulator, database_url: str) -> str:
    """Order 30 placed in Centra and drained into the bridge's local copy."""
    path = bridge_config(tmp_path, simulator, database_url)
    simulator.add_order(ROWS, order_id="30")
    drained = run_bridge("--config", path, "drain-events")
    assert drained.returncode == 0, drained.stderr
    return path


def push(config: str, path: Path, *args: str) -> tuple[int, str, str]:
    result = run_bridge("--config", config, "push", *args, str(path))
    return result.returncode, result.stdout, result.stderr


def orders_sent(simulator: Simulator) -> list[str]:
    """Each orders_Update body's order, as compact XML without the login."""
    sent = []
    for body in bodies(simulator, "orders_Update"):
        (order,) = body.iter("{*}order")
        sent.append(etree.tostring(order).decode())
    return sent


def test_lock_cancel_and_two_shipments_reach_centra_filled_in(
    tmp_path: Path, simulator: Simulator, config: str
) -> None:
    """Short records, as a person writes them, become one orders_Update per order each with
    type, store and the product, variation and size around every orderitem."""
    updates = write_lines(
        tmp_path / "order-30.jsonl",
        {"type": "lock", "order": "30"},
        {"type": "cancel", "order": "30", "items": {"303": 1}},
        {
            "type": "shipment",
            "order": "30",
            "id": "30-1",
            "items": {"301": 2, "303": 1},
            "carrier": "DHL",
            "tracking": "JD01",
            "capture": True,
        },
        {"type": "shipment", "order": "30", "id": "30-2", "items": {"302": 1, "303": 1}},
    )
    code, out, err = push(config, updates)
    assert code == ExitCode.OK, err
    assert "queued=4 sent=4" in out and "calls=4" in out, "one order per call"
    lock, cancel, first, second = (etree.fromstring(xml) for xml in orders_sent(simulator))
    assert [child.text for child in lock.iter("{*}type", "{*}store", "{*}locked")] == [
        "retail",
        "1",
        "yes",
    ]
    (cancelled,) = cancel.iter("{*}cancelled")
    assert _rows(cancelled) == [("PWC", "PWC", "OS", "1", "303")]
    assert _rows(first) == [("T001", "T001_RED", "S", "2", "301"), ("PWC", "PWC", "OS", "1", "303")]
    assert [el.text for el in first.iter("{*}capture", "{*}carrier", "{*}tracking")] == [
        "yes",
        "DHL",
        "JD01",
    ]
    assert _rows(second) == [
        ("T001", "T001_RED", "M", "1", "302"),
        ("PWC", "PWC", "OS", "1", "303"),
    ]


def test_over_shipping_an_unknown_row_or_order_queues_nothing(
    tmp_path: Path, simulator: Simulator, config: str
) -> None:
    """Each refusal names its line and field; nothing of the file is queued or sent, and
    what is already queued counts as taken."""
    queued = write_lines(
        tmp_path / "first.jsonl",
        {"type": "shipment", "order": "30", "id": "30-1", "items": {"303": 2}},
    )
    code, _, err = push(config, queued, "--queue-only")
    assert code == ExitCode.OK, err
    bad = write_lines(
        tmp_path / "bad.jsonl",
        {"type": "shipment", "order": "30", "id": "30-2", "items": {"303": 2}},
        {"type": "cancel", "order": "30", "items": {"399": 1}},
        {"type": "lock", "order": "31"},
        {"type": "shipment", "order": "30", "id": "30-3", "items": {"301": 1}, "colour": "red"},
    )
    code, _, err = push(config, bad)
    assert code == ExitCode.CONFIG
    lines = err.strip().splitlines()
    assert lines[0] == (
        f"centra-bridge: {bad}:1: shipments[0].products[0].sizes[0].qty: orderitem 303 ships 2, "
        "but 1 is open (on the order 3, in shipments 2, cancelled by updates not yet sent 0)"
    )
    assert lines[1].startswith(f"centra-bridge: {bad}:2: cancelled[0].sizes[0].orderitem.id: '399'")
    assert "its rows: 301, 302, 303" in lines[1]
    assert lines[2] == (
        f"centra-bridge: {bad}:3: id: order 31 was never seen in an event (or was deleted); "
        "not sent"
    )
    assert lines[3].startswith(f"centra-bridge: {bad}:4: colour: unknown field for a shipment")
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"queued": 1}, "only the first file's record"
    assert orders_sent(simulator) == []


def test_dry_run_shows_the_lock_as_centras_guide_does(
    tmp_path: Path, simulator: Simulator, config: str
) -> None:
    """push --dry-run prints the guide's lock request: id, type, store, locked."""
    updates = write_lines(tmp_path / "lock.jsonl", {"type": "lock", "order": "30"})
    code, out, err = push(config, updates, "--dry-run")
    assert code == ExitCode.OK, err
    order = out[out.index("<ns0:order>") : out.index("</ns0:order>") + len("</ns0:order>")]
    assert [line.strip() for line in order.splitlines()] == [
        "<ns0:order>",
        "<ns0:id>30</ns0:id>",
        "<ns0:type>retail</ns0:type>",
        "<ns0:store>1</ns0:store>",
        "<ns0:locked>yes</ns0:locked>",
        "</ns0:order>",
    ]
    assert PASSWORD not in out and orders_sent(simulator) == []


def _rows(element: etree._Element) -> list[tuple[str, ...]]:
    rows = []
    for product in element.iter("{*}product"):
        product_id = product.findtext("{*}id")
        variation = product.findtext("{*}variation/{*}id")
        for size in product.iter("{*}size"):
            rows.append(
                (
                    product_id or "",
                    variation or "",
                    size.findtext("{*}id") or "",
                    size.findtext("{*}qty") or "",
                    size.findtext("{*}orderitem/{*}id") or "",
                )
            )
    return rows


def test_lock_on_import_queues_one_lock_per_order_and_its_echo_is_not_delivered(
    tmp_path: Path, simulator: Simulator, database_url: str
) -> None:
    """An order delivered to the ERP's sink is locked in Centra once; the order event Centra
    sends back for the lock is stored and acknowledged but not delivered; a later change of
    Centra's own is, and no replay queues the lock again."""
    sink = tmp_path / "erp-orders"
    sink.mkdir()
    extra = f'[orders]\nlock_on_import = true\n[sinks.order]\nkind = "directory"\npath = "{sink}"\n'
    config = bridge_config(tmp_path, simulator, database_url, extra)
    simulator.add_order(ROWS, order_id="30")
    assert run_bridge("--config", config, "drain-events").returncode == 0
    assert len(list(sink.iterdir())) == 1
    pushed = run_bridge("--config", config, "push")
    assert pushed.returncode == 0, pushed.stderr
    assert "sent=1" in pushed.stdout
    state = simulator.order_state("30")
    assert state is not None and state.locked
    assert simulator.queue_length() == 1, "Centra sends the locked order back"
    assert run_bridge("--config", config, "drain-events").returncode == 0
    assert len(list(sink.iterdir())) == 1, "the lock's echo is not handed to the ERP"
    changed = json.loads(next(sink.iterdir()).read_text())["payload"]
    simulator.add_event("order", {**changed, "locked": "yes", "status": "completed"})
    assert run_bridge("--config", config, "drain-events").returncode == 0
    assert len(list(sink.iterdir())) == 2, "a change of Centra's own reaches the ERP"
    assert run_bridge("--config", config, "replay", "--type", "order").returncode == 0
    again = run_bridge("--config", config, "push")
    assert "sent=0" in again.stdout, "never a second lock for the same order"
    assert simulator.queue() == []


def test_the_order_lifecycle_reaches_centra_and_its_echoes_stay_out_of_the_erp(
    tmp_path: Path, simulator: Simulator, database_url: str
) -> None:
    """Lock, cancel one cap, ship the T-shirts and a cap with tracking and capture, then the
    rest: Centra's order shows it all, captured once; every event Centra sends back is stored
    and acknowledged, and none reaches the ERP's sink as a change the ERP did not make."""
    sink = tmp_path / "erp-orders"
    sink.mkdir()
    extra = f'[sinks.order]\nkind = "directory"\npath = "{sink}"\n'
    config = bridge_config(tmp_path, simulator, database_url, extra)
    simulator.add_order(ROWS, order_id="30")
    assert run_bridge("--config", config, "drain-events").returncode == 0
    steps = [
        [{"type": "lock", "order": "30"}],
        [{"type": "cancel", "order": "30", "items": {"303": 1}}],
        [
            {
                "type": "shipment",
                "order": "30",
                "id": "30-1",
                "items": {"301": 2, "303": 1},
                "carrier": "DHL",
                "tracking": "JD01",
                "capture": True,
            }
        ],
        [
            {
                "type": "shipment",
                "order": "30",
                "id": "30-2",
                "items": {"302": 1, "303": 1},
                "carrier": "DHL",
                "tracking": "JD02",
                "capture": True,
            }
        ],
    ]
    for number, records in enumerate(steps):
        code, _, err = push(config, write_lines(tmp_path / f"step-{number}.jsonl", *records))
        assert code == ExitCode.OK, err
        drained = run_bridge("--config", config, "drain-events")
        assert drained.returncode == 0, drained.stderr
    state = simulator.order_state("30")
    assert state is not None and state.locked and state.captures == 1
    rows = {
        orderitem: (row.cancelled, row.shipped, row.open) for orderitem, row in state.rows.items()
    }
    assert rows == {"301": (0, 2, 0), "302": (0, 1, 0), "303": (1, 2, 0)}
    assert {shipment.tracking for shipment in state.shipments.values()} == {"JD01", "JD02"}
    assert simulator.queue() == [], "every echo stored and acknowledged"
    assert len(list(sink.iterdir())) == 1, "only the order as placed reached the ERP"
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"sent": 4}


def _rows(element: etree._Element) -> list[tuple[str, ...]]:
    rows = []
    for product in element.iter("{*}product"):
        product_id = product.findtext("{*}id")
        variation = product.findtext("{*}variation/{*}id")
        for size in product.iter("{*}size"):
            rows.append(
                (
                    product_id or "",
                    variation or "",
                    size.findtext("{*}id") or "",
                    size.findtext("{*}qty") or "",
                    size.findtext("{*}orderitem/{*}id") or "",
                )
            )
    return rows


def test_prices_reach_centra_per_variation_and_product_through_the_id_map(
    tmp_path: Path, simulator: Simulator, database_url: str
) -> None:
    """One price a line, by the ERP's product ids: Centra gets one pricelists_Update with the
    products under the ids the id map gives them, prices at variation or product level."""
    config = bridge_config(tmp_path, simulator, database_url)
    mapped = run_bridge("--config", config, "ids", "set", "product", "ERP-T001", "T001")
    assert mapped.returncode == 0, mapped.stderr
    whole = {
        "type": "pricelist",
        "id": "EUR-Retail",
        "store": "1",
        "pricelist_type": "retail",
        "currency": "EUR",
        "items": {"product": [{"id": "PWC", "price": "1000"}]},
    }
    one = {
        "type": "price",
        "pricelist": "EUR-Retail",
        "product": "ERP-T001",
        "variation": "T001_RED",
        "price": 123,
    }
    prices = write_lines(tmp_path / "prices.jsonl", whole, one)
    code, out, err = push(config, prices)
    assert code == ExitCode.OK, err
    pricelist = simulator.pricelist("EUR-Retail")
    assert pricelist is not None, out
    assert pricelist.variations[("T001", "T001_RED")].price == "123"
    assert pricelist.products["PWC"].price == "1000"
    bad = write_lines(
        tmp_path / "bad.jsonl",
        {"type": "price", "pricelist": "EUR-Retail", "product": "P", "price": "a lot"},
    )
    code, _, err = push(config, bad)
    assert code == ExitCode.CONFIG
    assert f"{bad}:1: price: must be a price (a number), got 'a lot'" in err


def test_a_push_killed_while_a_shipment_is_in_flight_ships_nothing_twice(
    tmp_path: Path, simulator: Simulator, config: str
) -> None:
    """SIGKILL while Centra takes the first shipment: Centra applied it, the bridge never
    heard. The next push sends it again under the same shipment id, which Centra takes as
    the same shipment: every piece ships once, the payment is captured once."""
    shipments = [
        {"type": "shipment", "order": "30", "id": "30-1", "items": {"301": 2}, "capture": True},
        {"type": "shipment", "order": "30", "id": "30-2", "items": {"302": 1, "303": 3}},
    ]
    code, _, err = push(config, write_lines(tmp_path / "ship.jsonl", *shipments), "--queue-only")
    assert code == ExitCode.OK, err
    hold = Hold("orders_Update")
    simulator.faults.append(hold)
    killed = Daemon(Path(config), command="push")
    try:
        assert hold.arrived.wait(30), killed.output()
        killed.signal(signal.SIGKILL)
        killed.wait()
    finally:
        hold.release()
    assert simulator.wait_for(lambda: "30-1" in simulator.order_state("30").shipments)  # type: ignore[union-attr]
    again = run_bridge("--config", config, "push")
    assert again.returncode == ExitCode.OK, again.stderr
    assert "sent=2" in again.stdout, "the unanswered shipment is sent again, then the next"
    state = simulator.order_state("30")
    assert state is not None and state.captures == 1
    shipped = {orderitem: row.in_shipments for orderitem, row in state.rows.items()}
    assert shipped == {"301": 2, "302": 1, "303": 3}


#: Order 25 of Centra's ERP guide (§1.3): a wholesale order, rows by orderitem.
GUIDE_ROWS = [
    OrderRow("PWC", "PWC", "OS", 2, orderitem="67"),
    OrderRow("T001", "T001_BLUE", "S", 1, orderitem="68"),
    OrderRow("T001", "T001_BLUE", "M", 2, orderitem="69"),
    OrderRow("T001", "T001_RED", "M", 3, orderitem="70"),
    OrderRow("T001", "T001_RED", "L", 4, orderitem="71"),
]
CAPTURES = Path(__file__).parents[1] / "contract" / "captures"


def test_dry_run_prints_each_step_of_the_guide_as_the_guide_shows_it(
    tmp_path: Path, simulator: Simulator, database_url: str
) -> None:
    """Confirm, cancel, two shipments, then both shipped, written as an ERP writes them: each
    --dry-run request carries the fields of the guide's verbatim request for that step."""
    config = bridge_config(tmp_path, simulator, database_url)
    simulator.add_order(GUIDE_ROWS, order_id="25", type="wholesale", shipping="123")
    assert run_bridge("--config", config, "drain-events").returncode == 0
    steps = {
        "orders_update_confirm": {"type": "confirm", "order": "25", "lock": True},
        "orders_update_cancel": {"type": "cancel", "order": "25", "items": {"71": 1}},
        "orders_update_shipment_1": {
            "type": "shipment",
            "order": "25",
            "id": "shipment-25-1",
            "shipped": False,
            "appendix": 1,
            "items": {"68": 1, "69": 1, "67": 2},
            "shipping": 123,
        },
        "orders_update_shipment_2": {
            "type": "shipment",
            "order": "25",
            "id": "shipment-25-2",
            "shipped": False,
            "appendix": 2,
            "items": {"69": 1, "70": 3, "71": 3},
            "shipping": 0,
        },
    }
    for name, record in steps.items():
        path = write_lines(tmp_path / f"{name}.jsonl", record)
        code, out, err = push(config, path, "--dry-run")
        assert code == ExitCode.OK, err
        _assert_same_fields(name, out)
    code, _, err = push(config, write_lines(tmp_path / "all.jsonl", *steps.values()))
    assert code == ExitCode.OK, err
    assert run_bridge("--config", config, "drain-events").returncode == 0
    carrier = {"carrier": "DHL", "service": "EXPRESS"}
    shipped = {
        "type": "order",
        "id": "25",
        "shipments": [
            {
                "id": "shipment-25-1",
                "shipped": "yes",
                "carrierinformation": {**carrier, "tracking": "876543210"},
            },
            {
                "id": "shipment-25-2",
                "shipped": "yes",
                "carrierinformation": {**carrier, "tracking": "987654321"},
            },
        ],
    }
    code, out, err = push(config, write_lines(tmp_path / "shipped.jsonl", shipped), "--dry-run")
    assert code == ExitCode.OK, err
    _assert_same_fields("orders_update_shipped", out)


def _assert_same_fields(name: str, dry_run: str) -> None:
    guide = _order_fields((CAPTURES / f"{name}.xml").read_bytes())
    ours = _order_fields(dry_run.encode())
    if name == "orders_update_confirm":  # the guide itself puts status before locked here
        guide, ours = sorted(guide), sorted(ours)
    assert ours == guide, name


def _order_fields(xml: bytes) -> list[tuple[str, str]]:
    """(path, text) of every leaf with text under the request's <order>."""
    (order,) = etree.fromstring(xml).iter("{*}order")
    fields = []
    for element in order.iter():
        if len(element) == 0 and (element.text or "").strip():
            path = [etree.QName(a).localname for a in reversed(list(element.iterancestors()))]
            path = [*path[path.index("order") + 1 :], etree.QName(element).localname]
            fields.append(("/".join(path), element.text.strip()))
    return fields

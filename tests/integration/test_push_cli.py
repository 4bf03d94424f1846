"""``push`` and ``ids`` as a new user runs them: child processes, the simulator, a SQLite file."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_process import bridge_command, child_env, run_bridge, write_config
from lxml import etree

from bridge.errors import ExitCode
from bridge.simulator import Hold, Simulator
from bridge.simulator.app import Reply, Request
from bridge.simulator.soap import CENTRA_NS, result_reply
from bridge.store.lock import for_database

PASSWORD = "pw-push-91c3-never-print-me"
NS = {"c": CENTRA_NS}
CUSTOMER = {"type": "customer", "id": "C1001", "firstname": "Ada"}
PRODUCT = {
    "type": "product",
    "id": "TURTLE001",
    "status": "active",
    "sku": "TURTLE001",
    "description": "Turtleneck",
    "variations": [
        {
            "id": "TURTLE001-RED",
            "stockid": "TURTLE001-RED",
            "description": "Red",
            "sku": "RED",
            "sizes": [
                {
                    "id": "OS",
                    "sku": "01",
                    "warehouseitems": [{"id": "MAIN", "qty": "12"}],
                }
            ],
        }
    ],
}


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=7) as running:
        yield running


def write_lines(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def bodies(simulator: Simulator, operation: str) -> list[etree._Element]:
    return [etree.fromstring(call.body) for call in simulator.calls if call.operation == operation]


def children(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


def test_new_user_maps_a_customer_and_pushes_a_file(tmp_path: Path, simulator: Simulator) -> None:
    """ids set C1001 → 4711, push a customer and a product: Centra gets exactly that."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))
    mapped = run_bridge("--config", config, "ids", "set", "customer", "C1001", "4711")
    assert mapped.returncode == 0, mapped.stderr
    updates = write_lines(tmp_path / "updates.jsonl", CUSTOMER, PRODUCT)

    pushed = run_bridge("--config", config, "push", str(updates))
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip() == "pushed: queued=2 sent=2 failed=0 dead=0 calls=2"

    (customers,) = bodies(simulator, "customers_Update")
    (customer,) = customers.findall(".//c:customers/c:customer", NS)
    assert children(customer) == ["id", "firstname"]
    assert customer.findtext("c:id", namespaces=NS) == "4711"
    assert customer.findtext("c:firstname", namespaces=NS) == "Ada"

    (products,) = bodies(simulator, "products_Update")
    (operation,) = products.find(".//c:products", NS).iterancestors("{*}products_Update")
    assert children(operation) == ["login", "products"]
    (product,) = products.findall(".//c:products/c:product", NS)
    assert children(product) == ["id", "status", "sku", "description", "variations"]
    (variation,) = product.findall("c:variations/c:variation", NS)
    assert children(variation) == ["id", "stockid", "description", "sku", "sizes"]
    (size,) = variation.findall("c:sizes/c:size", NS)
    assert children(size) == ["id", "sku", "warehouseitems"]
    (warehouse,) = size.findall("c:warehouseitems/c:warehouse", NS)
    assert (
        warehouse.findtext("c:id", namespaces=NS),
        warehouse.findtext("c:qty", namespaces=NS),
    ) == ("MAIN", "12")
    assert simulator.customers == {"4711": {"id": "4711", "firstname": "Ada"}}

    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"sent": 2}
    listing = json.loads(run_bridge("--config", config, "ids", "list", "--json").stdout)
    assert {
        (row["entity_type"], row["erp_id"], row["centra_id"], row["origin"])
        for row in listing["mappings"]
    } == {("customer", "C1001", "4711", "manual"), ("product", "TURTLE001", "TURTLE001", "erp")}


def test_bad_line_queues_nothing_from_the_file(tmp_path: Path, simulator: Simulator) -> None:
    """A bad line is named with file, line and field; nothing is queued or sent; exit 2."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))
    updates = write_lines(
        tmp_path / "updates.jsonl", CUSTOMER, {"type": "customer", "id": "C2", "fristname": "Bob"}
    )
    result = run_bridge("--config", config, "push", str(updates))
    assert result.returncode == ExitCode.CONFIG
    assert f"{updates}:2: fristname: unknown field" in result.stderr
    assert "Traceback" not in result.stderr
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["total"] == 0
    assert not [call for call in simulator.calls if call.operation.endswith("_Update")]


def test_dry_run_prints_the_xml_with_the_password_masked(
    tmp_path: Path, simulator: Simulator
) -> None:
    """--dry-run shows the envelopes it would send; nothing is stored, nothing sent."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))
    run_bridge("--config", config, "ids", "set", "customer", "C1001", "4711")
    updates = write_lines(tmp_path / "updates.jsonl", CUSTOMER)
    result = run_bridge("--config", config, "push", "--dry-run", str(updates))
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    envelope = etree.fromstring(result.stdout.encode())
    assert envelope.findtext(".//c:login/c:password", namespaces=NS) == "********"
    assert envelope.findtext(".//c:login/c:username", namespaces=NS) == "erp"
    assert envelope.findtext(".//c:customer/c:id", namespaces=NS) == "4711"
    assert simulator.calls == []
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["total"] == 0


def test_refusal_is_visible_in_status_and_push_retry_sends_again(
    tmp_path: Path, simulator: Simulator
) -> None:
    """success=false: exit 6, status names Centra's message; push --retry sends it again."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))

    def refuse(request: Request) -> Reply | None:
        if request.operation == "customers_Update":
            return Reply(200, result_reply(CENTRA_NS, False, ["Unknown store 9"]))
        return None

    simulator.faults.append(refuse)
    updates = write_lines(tmp_path / "updates.jsonl", CUSTOMER)
    refused = run_bridge("--config", config, "push", str(updates))
    assert refused.returncode == ExitCode.PARTIAL, refused.stderr
    assert "failed=1" in refused.stdout
    status = run_bridge("--config", config, "status")
    assert "customer C1001 (failed, 1 attempts" in status.stdout
    assert "Unknown store 9" in status.stdout

    simulator.faults.clear()
    again = run_bridge("--config", config, "push", "--retry")
    assert again.returncode == 0, again.stderr
    assert "sent=1" in again.stdout
    assert "C1001" in simulator.customers


def test_sigkill_in_the_middle_of_a_push_loses_nothing(
    tmp_path: Path, simulator: Simulator
) -> None:
    """Killed while Centra holds the first batch: after a restart every record is sent."""
    config = str(
        write_config(tmp_path, simulator.url, PASSWORD, extra="[outbox]\nbatch_size = 2\n")
    )
    products = [{"type": "product", "id": f"P{n}", "sku": f"P{n}"} for n in range(5)]
    updates = write_lines(tmp_path / "updates.jsonl", *products)
    # Once released, the simulator applies the held batch; its answer reaches nobody.
    hold = Hold("products_Update")
    simulator.faults.append(hold)
    child = subprocess.Popen(
        bridge_command("--config", config, "push", str(updates)),
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert hold.arrived.wait(30), "the child never sent products_Update"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        hold.release()
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"queued": 5}, "stored before anything was sent"

    again = run_bridge("--config", config, "push")
    assert again.returncode == 0, again.stderr
    assert sorted(simulator.products) == [f"P{n}" for n in range(5)]
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"sent": 5}


def test_ids_conflicts_are_refused_and_csv_round_trips(
    tmp_path: Path, simulator: Simulator
) -> None:
    """A second partner for an id is refused; export then import gives the same map."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))

    def ids(*args: str) -> subprocess.CompletedProcess[str]:
        return run_bridge("--config", config, "ids", *args)

    assert ids("set", "customer", "C1001", "4711").returncode == 0
    assert ids("set", "customer", "C1001", "4711").stdout.strip().endswith("(unchanged)")
    taken = ids("set", "customer", "C1002", "4711")
    assert taken.returncode == ExitCode.CONFIG
    assert "Centra id 4711 is already mapped to ERP id C1001" in taken.stderr
    twice = ids("set", "customer", "C1001", "4712")
    assert "ERP id C1001 is already mapped to Centra id 4711" in twice.stderr

    exported = tmp_path / "ids.csv"
    assert ids("export", str(exported)).returncode == 0
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600, "readable by its owner only"
    assert exported.read_text() == (
        "entity_type,erp_id,centra_id,origin\ncustomer,C1001,4711,manual\n"
    )
    assert ids("remove", "customer", "C1001").returncode == 0
    assert json.loads(ids("list", "--json").stdout) == {"mappings": []}
    imported = ids("import", str(exported))
    assert imported.stdout.strip() == "imported: added=1 linked=0 unchanged=0"

    clash = tmp_path / "clash.csv"
    clash.write_text("entity_type,erp_id,centra_id\nproduct,P1,9\ncustomer,C9,4711\n")
    refused = ids("import", str(clash))
    assert refused.returncode == ExitCode.CONFIG
    assert "row 3" in refused.stderr and "nothing imported" in refused.stderr
    rows = json.loads(ids("list", "--json").stdout)["mappings"]
    assert [row["erp_id"] for row in rows] == ["C1001"]


def test_ids_import_of_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A Latin-1 CSV is refused in one line naming the file and the byte; exit 2."""
    config = str(write_config(tmp_path, "http://127.0.0.1:9/x", PASSWORD))
    latin = tmp_path / "ids.csv"
    latin.write_bytes("entity_type,erp_id,centra_id\ncustomer,Sjöberg,4711\n".encode("latin-1"))
    result = run_bridge("--config", config, "ids", "import", str(latin))
    assert result.returncode == ExitCode.CONFIG, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"centra-bridge: {latin}: not UTF-8")


def test_queue_only_stores_and_unreachable_centra_exits_4(
    tmp_path: Path, simulator: Simulator
) -> None:
    """--queue-only sends nothing; a push while Centra answers 503 exits 4, records kept."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))
    updates = write_lines(tmp_path / "updates.jsonl", CUSTOMER, PRODUCT)
    stored = run_bridge("--config", config, "push", "--queue-only", str(updates))
    assert stored.returncode == 0, stored.stderr
    assert simulator.calls == []
    simulator.faults.append(lambda request: Reply(503, b"maintenance", "text/plain"))
    down = run_bridge("--config", config, "push")
    assert down.returncode == ExitCode.UNAVAILABLE, down.stderr
    assert down.stdout.startswith("stopped (Centra unreachable)")
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert sum(status["outbox"]["by_status"].values()) == 2
    assert "sent" not in status["outbox"]["by_status"]


def test_push_beside_the_running_service_only_queues(tmp_path: Path, simulator: Simulator) -> None:
    """While another process holds the store, push queues and leaves sending to it."""
    config = str(write_config(tmp_path, simulator.url, PASSWORD))
    updates = write_lines(tmp_path / "u.jsonl", {"type": "customer", "id": "C9", "firstname": "Al"})
    lock = for_database(f"sqlite:///{tmp_path / 'bridge.db'}")
    assert lock.acquire()
    try:
        result = run_bridge("--config", config, "push", str(updates))
    finally:
        lock.release()
    assert result.returncode == 0, result.stderr
    assert "queued only" in result.stdout
    assert "C9" not in simulator.customers
    status = json.loads(run_bridge("--config", config, "status", "--json").stdout)
    assert status["outbox"]["by_status"] == {"queued": 1}

"""The simulator over real HTTP, driven by hand-written envelopes and plain ``requests``."""

from __future__ import annotations

import base64
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from bridge.simulator import LOGIN_FAILED, OrderRow, Reply, Request, Simulator
from bridge.simulator.wsdl import find_wsdl_dir

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CENTRA = "http://www.centra.com/webservices/"
SILK = "http://www.silkvms.com/webservices/"
USERNAME, PASSWORD = "erp", "s3cret-pass"
LOGIN = f"<login><username>{USERNAME}</username><password>{PASSWORD}</password></login>"
STYLES = ["prefixed", "default"]


def envelope(
    operation: str, inner: str, *, style: str = "prefixed", namespace: str = CENTRA
) -> bytes:
    """An envelope as clients write them: zeep's ``ns1:`` prefixes, or the cookbook's default
    namespace on the operation element. ``inner`` is written without prefixes."""
    if style == "prefixed":
        inner = re.sub(r"<(/?)(\w)", r"<\1ns1:\2", inner)
        opening = f'<ns1:{operation} xmlns:ns1="{namespace}">'
        closing = f"</ns1:{operation}>"
    else:
        opening, closing = f'<{operation} xmlns="{namespace}">', f"</{operation}>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}">'
        f"<soapenv:Body>{opening}{inner}{closing}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def post(
    url: str, body: bytes, action: str = "", auth: tuple[str, str] | None = None
) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return requests.post(url, data=body, headers=headers, auth=auth, timeout=10)


def get_events(sim: Simulator, kind: str = "all", style: str = "prefixed") -> list[str]:
    reply = post(sim.url, envelope("events_GetRequest", f"{LOGIN}<type>{kind}</type>", style=style))
    assert reply.status_code == 200, reply.text
    return [
        e.text or ""
        for e in etree.fromstring(reply.content).iterfind(
            f".//{{{CENTRA}}}events/{{{CENTRA}}}event/{{{CENTRA}}}id"
        )
    ]


def done(sim: Simulator, ids: list[str], style: str = "prefixed") -> etree._Element:
    events = "".join(f"<event>{event_id}</event>" for event_id in ids)
    reply = post(sim.url, envelope("events_Done", LOGIN + events, style=style))
    assert reply.status_code == 200, reply.text
    return result(reply)


def result(reply: requests.Response, namespace: str = CENTRA) -> etree._Element:
    found = etree.fromstring(reply.content).find(f"{{{SOAP_ENV}}}Body/{{{namespace}}}result")
    assert found is not None, reply.text
    return found


def messages(result_el: etree._Element, kind: str) -> list[str]:
    return [m.text or "" for m in result_el.iterfind(f"{{{CENTRA}}}{kind}/{{{CENTRA}}}message")]


def fault_of(reply: requests.Response) -> tuple[str, str]:
    fault = etree.fromstring(reply.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, reply.text
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


MINI_WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" targetNamespace="{ns}">
  <service name="CentraService"><port name="CentraPort" binding="tns:CentraBinding">
    <soap:address location="https://example.centra.com/ams/x"/>
  </port></service>
</definitions>
"""
WSDL_FILES = {
    "soap": ("centra-soap-api.wsdl", CENTRA),
    "navision-soap": ("navision-soap.wsdl", SILK),
    "navision-api": ("navision-api.wsdl", SILK),
}


@pytest.fixture
def wsdl_dir(tmp_path: Path) -> Path:
    for name, namespace in WSDL_FILES.values():
        (tmp_path / name).write_text(MINI_WSDL.format(ns=namespace), encoding="utf-8")
    return tmp_path


@pytest.fixture
def sim(wsdl_dir: Path) -> Iterator[Simulator]:
    with Simulator(username=USERNAME, password=PASSWORD, seed=7, wsdl_dir=wsdl_dir) as simulator:
        yield simulator


def order(order_id: str, market: str | None) -> dict[str, object]:
    payload: dict[str, object] = {"id": order_id, "status": "confirmed"}
    if market:
        payload["market"] = {"id": market, "description": market}
    return payload


# -- transport and WSDL ---------------------------------------------------------------------


@pytest.mark.parametrize("flavor", list(WSDL_FILES))
def test_wsdl_is_served_with_the_simulators_address(sim: Simulator, flavor: str) -> None:
    """``GET <endpoint>?wsdl`` returns that endpoint's WSDL pointing at the simulator."""
    reply = requests.get(sim.endpoint(flavor) + "?wsdl", timeout=10)
    assert reply.status_code == 200
    root = etree.fromstring(reply.content)
    assert root.get("targetNamespace") == WSDL_FILES[flavor][1]
    addresses = root.findall(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert [a.get("location") for a in addresses] == [sim.endpoint(flavor)]


@pytest.mark.parametrize("flavor", list(WSDL_FILES))
def test_project_wsdls_are_served(flavor: str) -> None:
    """The repository's own WSDLs come back with their address rewritten."""
    if find_wsdl_dir() is None:
        pytest.skip("the project's wsdl directory is missing")
    with Simulator() as simulator:
        endpoint = simulator.endpoint(flavor)
        reply = requests.get(endpoint + "?WSDL", timeout=10)
    assert reply.status_code == 200, reply.text
    locations = [
        a.get("location")
        for a in etree.fromstring(reply.content).iter(
            "{http://schemas.xmlsoap.org/wsdl/soap/}address"
        )
    ]
    assert locations == [endpoint]


def test_reply_looks_like_centras(sim: Simulator) -> None:
    """Prolog, prefixes, content type and request-id headers follow Centra's captures."""
    reply = post(sim.url, envelope("events_GetRequest", f"{LOGIN}<type>all</type>"))
    assert reply.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    request_id = reply.headers["X-Centra-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]+", request_id)
    assert reply.headers["X-Correlation-ID"] == f"centra_{request_id}"
    assert b"<SOAP-ENV:Envelope" in reply.content
    assert b"<ns1:events_Get><ns1:events/></ns1:events_Get>" in reply.content


def test_calls_are_recorded(sim: Simulator) -> None:
    """Each request is kept with operation, SOAPAction, body and status."""
    body = envelope("events_GetRequest", f"{LOGIN}<type>order</type>")
    post(sim.url, body, action=f"{CENTRA}Events_Get")
    (call,) = sim.calls
    assert (call.flavor, call.operation, call.status) == ("soap", "events_Get", 200)
    assert call.soap_action == f"{CENTRA}Events_Get"
    assert call.body == body
    assert call.headers["content-type"].startswith("text/xml")


def test_unknown_path_is_404(sim: Simulator) -> None:
    """Only Centra's three endpoint paths exist."""
    assert requests.get(sim.url.replace("/soap/api", "/nope"), timeout=10).status_code == 404


# -- login and faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "login",
    [
        "<login><username>erp</username><password>wrong</password></login>",
        "<login><username>someone</username><password>s3cret-pass</password></login>",
        "",
    ],
)
def test_bad_or_missing_login_is_a_client_fault(sim: Simulator, login: str) -> None:
    """Wrong or missing credentials answer HTTP 500 with a SOAP-ENV:Client Fault."""
    sim.add_event("order", order("1", None))
    reply = post(sim.url, envelope("events_GetRequest", f"{login}<type>all</type>"))
    assert reply.status_code == 500
    assert fault_of(reply) == ("SOAP-ENV:Client", LOGIN_FAILED)
    assert sim.calls[-1].fault == LOGIN_FAILED


def test_navision_api_accepts_basic_auth_or_body_login(sim: Simulator) -> None:
    """navision/api takes HTTP Basic (our assumption) as well as the body login."""
    sim.add_event("order", order("1", None))
    url = sim.endpoint("navision-api")
    bare = envelope("events_GetRequest", "<type>all</type>", namespace=SILK)
    assert post(url, bare, auth=(USERNAME, PASSWORD)).status_code == 200
    assert post(url, bare, auth=(USERNAME, "wrong")).status_code == 500
    assert post(url, bare).status_code == 500
    with_login = envelope("events_GetRequest", f"{LOGIN}<type>all</type>", namespace=SILK)
    assert post(url, with_login).status_code == 200


def test_basic_auth_alone_is_refused_on_other_endpoints(sim: Simulator) -> None:
    """soap/api and navision/soap want the login in the body."""
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    reply = requests.post(
        sim.url,
        data=envelope("events_GetRequest", "<type>all</type>"),
        headers={"Authorization": f"Basic {token}"},
        timeout=10,
    )
    assert reply.status_code == 500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (envelope("events_Frobnicate", LOGIN), "Unknown operation: events_Frobnicate"),
        (envelope("events_Get", f"{LOGIN}<type>all</type>"), "Unknown operation: events_Get"),
        (b"<not-xml", "Malformed request XML"),
        (b"", "Malformed request XML"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "DTDs are not allowed"),
        (b"<Envelope/>", "not a SOAP 1.1 Envelope"),
        (envelope("events_GetRequest", f"{LOGIN}<type>orders</type>"), "Invalid event type"),
        (envelope("events_GetRequest", LOGIN, namespace=SILK), "Unknown operation"),
    ],
)
def test_unusable_requests_are_client_faults(sim: Simulator, body: bytes, message: str) -> None:
    """Unknown operations, bad XML, DTDs and bad filter values answer with a Fault."""
    reply = post(sim.url, body)
    assert reply.status_code == 500
    code, text = fault_of(reply)
    assert code == "SOAP-ENV:Client"
    assert message in text


def test_unqualified_children_are_named_in_the_fault(sim: Simulator) -> None:
    """A client that forgets elementFormDefault=qualified is told which element is wrong."""
    body = envelope("events_GetRequest", "", style="default").replace(
        b"</events_GetRequest>",
        f'<login xmlns="">{LOGIN[7:]}<type xmlns="">all</type></events_GetRequest>'.encode(),
    )
    reply = post(sim.url, body)
    assert fault_of(reply)[1] == f"Element <login> is not in namespace {CENTRA}"


def test_fault_hook_can_answer_instead(sim: Simulator) -> None:
    """A hook in ``faults`` sees the parsed operation and may replace the answer."""
    seen: list[str] = []

    def unavailable(request: Request) -> Reply | None:
        seen.append(request.operation)
        return Reply(503, b"down", "text/plain") if request.operation == "events_Done" else None

    sim.faults.append(unavailable)
    sim.add_event("order", order("1", None))
    assert get_events(sim) == ["1"]
    reply = post(sim.url, envelope("events_Done", f"{LOGIN}<event>1</event>"))
    assert (reply.status_code, reply.content) == (503, b"down")
    assert sim.queue() == ["1"]
    assert seen == ["events_Get", "events_Done"]


# -- the event queue ------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_get_returns_the_100_oldest_until_acknowledged(sim: Simulator, style: str) -> None:
    """234 queued: the oldest 100 come back, the same again; after 10 Done, 90 seen + 10 new."""
    ids = [sim.add_event("order", order(str(n), None)) for n in range(234)]
    assert get_events(sim, style=style) == ids[:100]
    assert get_events(sim, style=style) == ids[:100]
    done(sim, ids[:10], style=style)
    assert len(sim.queue()) == 224
    assert get_events(sim, style=style) == ids[10:110]


def test_ids_ascend_numerically(sim: Simulator) -> None:
    """Ids are numeric strings in ascending order, past the width of the first ones."""
    ids = sim.add_generated(120)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert get_events(sim) == ids[:100]


def test_type_filter(sim: Simulator) -> None:
    """``type`` returns only that kind; ``all`` returns every kind, interleaved by id."""
    first = sim.add_event("customer", {"id": "c1", "firstname": "Ida"})
    second = sim.add_event("order", order("o1", None))
    third = sim.add_event("warehouse", {"id": "Main", "description": "Main"})
    assert get_events(sim, "order") == [second]
    assert get_events(sim, "warehouse") == [third]
    assert get_events(sim, "invoice") == []
    assert get_events(sim, "all") == [first, second, third]
    assert sim.queue("customer") == [first]


@pytest.mark.parametrize("style", STYLES)
def test_markets_filter(sim: Simulator, style: str) -> None:
    """events_GetByMarkets returns events of the named markets only; market-less ones never."""
    in_eu = sim.add_event("order", order("1", "Retail-EU"))
    sim.add_event("order", order("2", "Retail-US"))
    market = sim.add_event("market", {"id": "Retail-EU", "store": "1", "type": "retail"})
    sim.add_event("warehouse", {"id": "Main", "description": "Main"})
    in_wholesale = sim.add_event("order", order("3", "Wholesale-Market"))
    markets = (
        "<markets><market><id>Retail-EU</id></market>"
        "<market><id>Wholesale-Market</id></market></markets>"
    )

    def by_markets(kind: str) -> list[str]:
        body = envelope("events_GetByMarkets", f"{LOGIN}<type>{kind}</type>{markets}", style=style)
        reply = post(sim.url, body, action=f"{CENTRA}Events_GetByMarkets")
        assert reply.status_code == 200, reply.text
        return [
            e.text or ""
            for e in etree.fromstring(reply.content).iterfind(
                f".//{{{CENTRA}}}events_Get/{{{CENTRA}}}events/{{{CENTRA}}}event/{{{CENTRA}}}id"
            )
        ]

    assert by_markets("all") == [in_eu, market, in_wholesale]
    assert by_markets("order") == [in_eu, in_wholesale]


def test_done_removes_and_ignores_unknown_ids(sim: Simulator) -> None:
    """events_Done removes the named events, ignores unknown or repeated ids, answers success."""
    ids = [sim.add_event("order", order(str(n), None)) for n in range(5)]
    answer = done(sim, [ids[3], "999999", ids[1], ids[3]])
    assert answer.findtext(f"{{{CENTRA}}}success") == "true"
    assert sim.queue() == [ids[0], ids[2], ids[4]]
    assert sim.acknowledged == [ids[3], ids[1]]
    assert get_events(sim) == [ids[0], ids[2], ids[4]]


def test_navision_endpoints_answer_in_their_namespace(sim: Simulator) -> None:
    """The same queue is served on navision/soap with silkvms-namespaced events."""
    sim.add_event("order", order("1", None))
    body = envelope("events_GetRequest", f"{LOGIN}<type>all</type>", namespace=SILK)
    reply = post(sim.endpoint("navision-soap"), body)
    assert reply.status_code == 200, reply.text
    root = etree.fromstring(reply.content)
    assert root.findtext(f".//{{{SILK}}}event/{{{SILK}}}data/{{{SILK}}}order/{{{SILK}}}id") == "1"


def test_raw_payload_is_served_as_given(sim: Simulator) -> None:
    """``payload_xml`` lets a test put an element the WSDL does not know mid-order."""
    raw = (
        '<order xmlns="http://www.centra.com/webservices/"><id>77</id>'
        "<giftwrapping><paper>gold</paper></giftwrapping><status>confirmed</status></order>"
    )
    event_id = sim.add_event("order", payload_xml=raw)
    reply = post(sim.url, envelope("events_GetRequest", f"{LOGIN}<type>order</type>"))
    event = etree.fromstring(reply.content).find(f".//{{{CENTRA}}}event")
    assert event is not None
    assert event.findtext(f"{{{CENTRA}}}id") == event_id
    assert event.findtext(f"{{{CENTRA}}}entry") == "77"
    payload = event.find(f"{{{CENTRA}}}data/{{{CENTRA}}}order")
    assert payload is not None
    assert [etree.QName(e).localname for e in payload] == ["id", "giftwrapping", "status"]
    assert payload.findtext(f"{{{CENTRA}}}giftwrapping/{{{CENTRA}}}paper") == "gold"


def test_data_less_event_has_an_empty_data_element(sim: Simulator) -> None:
    """An event added without payload is served with ``<ns1:data/>`` (paymentterm, §2.2)."""
    sim.add_event("paymentterm")
    reply = post(sim.url, envelope("events_GetRequest", f"{LOGIN}<type>paymentterm</type>"))
    assert b"<ns1:entry></ns1:entry><ns1:mission>update</ns1:mission>" in reply.content
    data = etree.fromstring(reply.content).find(f".//{{{CENTRA}}}event/{{{CENTRA}}}data")
    assert data is not None
    assert len(data) == 0


def test_generated_events_have_centras_event_fields(sim: Simulator) -> None:
    """Each event carries id, type, entry, mission, date and one data child named by its kind."""
    sim.add_generated(40)
    reply = post(sim.url, envelope("events_GetRequest", f"{LOGIN}<type>all</type>"))
    events = etree.fromstring(reply.content).findall(f".//{{{CENTRA}}}event")
    assert len(events) == 40
    for event in events:
        names = [etree.QName(e).localname for e in event]
        assert names == ["id", "type", "entry", "mission", "date", "data"]
        data = event.find(f"{{{CENTRA}}}data")
        assert data is not None
        (payload,) = data
        assert etree.QName(payload).localname == event.findtext(f"{{{CENTRA}}}type")
    assert sum(sim.events_added.values()) == 40


def test_wait_for_wakes_on_work_from_another_thread(sim: Simulator) -> None:
    """wait_for returns as soon as a client acknowledged, and False when nothing happens."""
    ids = [sim.add_event("order", order(str(n), None)) for n in range(3)]
    worker = threading.Thread(target=done, args=(sim, ids))
    worker.start()
    assert sim.wait_for(lambda: sim.queue() == [])
    worker.join()
    assert sim.wait_for(lambda: False, timeout=0.2) is False


# -- updates --------------------------------------------------------------------------------


def update(sim: Simulator, operation: str, inner: str, style: str = "prefixed") -> etree._Element:
    reply = post(sim.url, envelope(operation, LOGIN + inner, style=style))
    assert reply.status_code == 200, reply.text
    return result(reply)


@pytest.mark.parametrize("style", STYLES)
def test_partial_update_keeps_missing_fields(sim: Simulator, style: str) -> None:
    """Only elements present change the stored object; omitted ones keep their value."""
    update(
        sim,
        "customers_Update",
        "<customers><customer><id>ERP-C1</id>"
        "<firstname>Anna</firstname><lastname>Berg</lastname><city>Malmö</city>"
        "</customer></customers>",
        style,
    )
    answer = update(
        sim,
        "customers_Update",
        "<customers><customer><id>ERP-C1</id><firstname>Annika</firstname></customer></customers>",
        style,
    )
    assert answer.findtext(f"{{{CENTRA}}}success") == "true"
    assert messages(answer, "notices") == []
    assert sim.customers["ERP-C1"] == {
        "id": "ERP-C1",
        "firstname": "Annika",
        "lastname": "Berg",
        "city": "Malmö",
    }


def test_stock_update_merges_variations_and_sizes_by_id(sim: Simulator) -> None:
    """A stock update naming only ids and warehouse quantities leaves the rest intact."""
    update(
        sim,
        "products_Update",
        "<products><product><id>P1</id><description>Tee</description>"
        "<variations><variation><id>P1-W</id><description>White</description><sizes>"
        "<size><id>S</id><sku>01</sku></size><size><id>M</id><sku>02</sku></size>"
        "</sizes></variation></variations></product></products>",
    )
    update(
        sim,
        "products_Update",
        "<products><product><id>P1</id><variations><variation>"
        "<id>P1-W</id><sizes><size><id>M</id><warehouseitems><warehouse><id>Main</id>"
        "<qty>7</qty></warehouse></warehouseitems></size></sizes></variation></variations>"
        "</product></products>",
    )
    product = sim.products["P1"]
    assert product["description"] == "Tee"
    (variation,) = product["variations"]["variation"]
    assert variation["description"] == "White"
    small, medium = variation["sizes"]["size"]
    assert small == {"id": "S", "sku": "01"}
    assert medium == {
        "id": "M",
        "sku": "02",
        "warehouseitems": {"warehouse": [{"id": "Main", "qty": "7"}]},
    }


def test_conversion_table_and_notices(sim: Simulator) -> None:
    """New ERP ids get an internal id and a notice; re-sending the same data adds neither."""
    first = update(
        sim,
        "products_Update",
        "<products><product><id>TURTLE</id></product><product><id>SCARF</id></product></products>",
    )
    assert messages(first, "notices") == ["Added new product: TURTLE", "Added new product: SCARF"]
    again = update(sim, "products_Update", "<products><product><id>SCARF</id></product></products>")
    assert messages(again, "notices") == []
    table = sim.conversion_table("product")
    assert set(table) == {"TURTLE", "SCARF"}
    assert all(internal.isdigit() for internal in table.values())
    assert len(set(table.values())) == 2


def test_object_without_id_fails_alone(sim: Simulator) -> None:
    """An object without ``<id>`` is refused with an error; the others are still saved."""
    answer = update(
        sim,
        "products_Update",
        "<products><product><sku>X</sku></product><product><id>OK-1</id></product></products>",
    )
    assert answer.findtext(f"{{{CENTRA}}}success") == "false"
    assert messages(answer, "errors") == ["product #1: missing <id>, product not saved"]
    assert list(sim.products) == ["OK-1"]


def test_orders_update_locks_a_known_order_and_refuses_an_unknown_one(sim: Simulator) -> None:
    """orders_Update (lock after import) changes an order Centra has; an order it never had is
    refused, where it used to be stored like any other update."""
    known = sim.add_order([OrderRow("T001", "T001_RED", "S", 1)], order_id="1001").id
    lock = "<type>retail</type><store>1</store><locked>yes</locked>"
    answer = update(sim, "orders_Update", f"<orders><order><id>{known}</id>{lock}</order></orders>")
    assert answer.findtext(f"{{{CENTRA}}}success") == "true"
    state = sim.order_state(known)
    assert state is not None and state.locked
    refused = update(sim, "orders_Update", f"<orders><order><id>4040</id>{lock}</order></orders>")
    assert refused.findtext(f"{{{CENTRA}}}success") == "false"
    assert messages(refused, "errors") == ["Order 4040: no such order"]


# -- serve() as ``centra-bridge simulate`` runs it ---------------------------------------------


def test_serve_prints_its_endpoint_and_stops_on_sigterm() -> None:
    """serve() announces URL and login on stdout, answers SOAP, and exits cleanly on SIGTERM."""
    repo = Path(__file__).resolve().parents[2]
    code = "from bridge.simulator import serve; serve(port=0, events=20, seed=4)"
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        url = first.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/soap/api"), first
        announced = "".join(child.stdout.readline() for _ in range(5))
        assert "username: demo  password: demo-password" in announced
        login = "<login><username>demo</username><password>demo-password</password></login>"
        reply = post(url, envelope("events_GetRequest", f"{login}<type>all</type>"))
        assert len(etree.fromstring(reply.content).findall(f".//{{{CENTRA}}}event")) == 20
    finally:
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr

"""Contract tests: the project's CentraClient against a double built from Centra's public docs.

The double (``centra_double.py``) knows nothing of the client or of the project's simulator. Each
client test runs for the three documented endpoints ("soap", "navision-soap", "navision-api") and
ends by asserting that the double recorded no breach of the wire contract (centra-soap.md).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import requests
from centra_double import (
    CAPTURES as CAPTURES_DIR,
)
from centra_double import (
    CENTRA_NS,
    FLAVORS,
    SILK_NS,
    SOAP_ENV,
    CentraDouble,
    QueuedEvent,
    UpdateAnswer,
    customer,
    iter_violations,
    order_event,
    soap_action,
)
from lxml import etree
from structlog.testing import capture_logs

from bridge.centra.soap.parse import event_payload
from bridge.centra.soap.schema import load_schema

if TYPE_CHECKING:
    from bridge.centra.port import Event
    from bridge.centra.soap.client import CentraClient

#: Builds a CentraClient for the current flavor against the double (fixture ``make_client``).
ClientFactory = Callable[..., "CentraClient"]

# --- helpers ----------------------------------------------------------------------------------


def payload_of(client: CentraClient, event: Event) -> dict[str, Any]:
    """The event's payload as the bridge's handlers read it, with the client's flavor."""
    return event_payload(event.xml, load_schema(client.flavor.wsdl_path))


def envelope(operation: str, inner: str, namespace: str, *, login: bool = True) -> bytes:
    """A hand-written request in the cookbook's style (default namespace on the operation)."""
    login_xml = (
        "<login><username>erp-user</username><password>s3cret!</password></login>" if login else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{operation} xmlns="{namespace}">{login_xml}{inner}</{operation}>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def post(
    double: CentraDouble,
    flavor: str,
    operation: str,
    inner: str = "",
    *,
    action: str | None = None,
    content_type: str = "text/xml; charset=utf-8",
    auth: tuple[str, str] | None = None,
    body: bytes | None = None,
) -> requests.Response:
    """POST a hand-written envelope to the double, as a correct client would unless overridden."""
    spec = FLAVORS[flavor]
    if auth is None and spec.login == "basic":
        auth = (double.username, double.password)
    headers = {
        "Content-Type": content_type,
        "SOAPAction": action if action is not None else soap_action(spec.namespace, operation),
    }
    data = (
        body
        if body is not None
        else envelope(operation, inner, spec.namespace, login=spec.login == "body")
    )
    return requests.post(double.url(flavor), data=data, headers=headers, auth=auth, timeout=5)


def fault_text(response: requests.Response) -> str:
    """The faultstring of a SOAP Fault answer."""
    root = etree.fromstring(response.content)
    return str(root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultstring"))


def as_list(value: Any) -> list[Any]:
    """A repeated element whatever shape one occurrence takes (list, single dict, or empty)."""
    if isinstance(value, list):
        return value
    return [value] if value else []


def assert_clean(double: CentraDouble) -> None:
    """No request broke the documented contract."""
    assert double.violations == [], list(iter_violations(double))


def only_request(double: CentraDouble) -> Any:
    """The one request the double received."""
    assert len(double.requests) == 1, [r.operation for r in double.requests]
    return double.requests[0]


def assert_retail_order(payload: dict[str, Any], order: str) -> None:
    """Every field of the retail order fixture came through (captures/retail_order.xml)."""
    assert payload["id"] == order
    assert payload["ordernumber"] == order
    assert payload["type"] == "retail"
    assert payload["store"] == "1"
    assert payload["status"] == "processing"
    assert payload["ordertotal"] == "1488.00"
    assert payload["currency"] == "EUR"
    assert payload["currencyrate"] == "11.24300"
    assert payload["basecurrency"] == "SEK"
    assert payload["created"] == "2024-05-14T09:31:07+02:00"
    assert payload["internal"] == "false"
    assert payload["collection"] == {"id": "SS24", "description": "Spring Summer 24"}
    additionals = {a["key"]: a.get("value") for a in payload["additionals"]}
    assert additionals["shipwallet_deliverytime"] == "2024-05-17"
    assert additionals["shipwallet_doorcode"] == "4711B"
    assert additionals["shipwallet_method"] == "dhl-home"
    assert not additionals["shipwallet_pickup"]
    assert "DC-NORTH" in repr(payload["primary_warehouse"])
    assert payload["shipping"]["subtotal"] == "19"
    assert payload["shipping"]["description"] == "Germany"
    assert payload["payments"]["name"] == "adyen-drop-in"
    assert payload["payments"]["method"] == "card"
    assert as_list(payload["payments"]["payment"])[0]["transaction"] == "PSP8812345"

    lines = payload["products"]
    assert isinstance(lines, list)
    assert [line["id"] for line in lines] == ["LS100", "TB7"]
    shirt, table = lines
    assert shirt["sku"] == "LINEN100"
    assert shirt["tax"] == "19.000"
    assert shirt["qty"] == "2"
    assert shirt["price"] == "89.00"
    assert shirt["subtotal"] == "178"
    assert shirt["description"] == "Linen shirt"
    assert shirt["variation"] == {"id": "LS100_SAND", "description": "Sand"}
    assert shirt["brand"] == {"id": "NL", "description": "Nordic Linen"}
    assert isinstance(shirt["sizes"], list)
    (size,) = shirt["sizes"]
    assert size["id"] == "M"
    assert size["sku"] == "02"
    assert size["qty"] == "2"
    assert size["preorder"] == "no"
    assert size["orderitem"]["id"] == f"{order}01"
    assert size["warehouseitems"] == [{"id": "DC-NORTH", "qty": "2"}]
    assert table["discount"] == "19"
    assert table["sizes"][0]["orderitem"]["id"] == f"{order}02"
    assert table["sizes"][0]["id"] == "OS"

    (shipment,) = payload["shipments"]
    assert shipment["id"] == f"{order}-1"
    assert shipment["goodtogo"] == "yes"
    assert shipment["appendix"] == "1"
    assert shipment["shipmenttotal"] == "1488.00"
    assert shipment["shippingaddress"]["city"] == "Hamburg"
    assert shipment["carrierinformation"]["packages"] == "0"
    assert shipment["products"][0]["sizes"][0]["orderitem"]["id"] == f"{order}01"
    assert shipment["handling"]["subtotal"] == "0.00"

    assert payload["customer"]["id"] == "5501"
    ship, bill = payload["shippingaddress"], payload["billingaddress"]
    assert ship["firstname"] == "Grete"
    assert ship["lastname"] == "Brandt"
    assert ship["address1"] == "Lindenallee 12"
    assert ship["zipcode"] == "20095"
    assert ship["country"] == "DE"
    assert ship["email"] == "grete.brandt@example.org"
    assert ship["telephone"] == "+49 40 555 0101"
    assert bill["address1"] == "Postfach 4410"
    assert bill["address2"] == "c/o Brandt GmbH"
    assert payload["other"] == "Bitte bei Müller abgeben & zweimal klingeln"
    assert payload["market"] == {"id": "Retail-DE", "description": "Germany"}
    assert payload["pricelist"] == {"id": "EUR-Retail", "description": "Euro"}


def assert_wholesale_order(payload: dict[str, Any], order: str) -> None:
    """Every field of the wholesale order fixture came through (captures/wholesale_order.xml)."""
    assert payload["id"] == order
    assert payload["type"] == "wholesale"
    assert payload["store"] == "2"
    assert payload["status"] == "pending"
    assert payload["buyer"]["id"] == "ACME-7_buyer1"
    assert payload["buyer"]["email"] == "jonas.berg@example.com"
    assert payload["account"] == {"id": "ACME-7"}
    assert payload["paymentterms"] == {"id": "NET45", "description": "45 Days"}
    assert payload["shippingterms"]["id"] == "FCA"
    assert payload["payments"]["type"] == "inv"
    (line,) = payload["products"]
    assert line["variation"]["id"] == "LS100_NAVY"
    small, large = line["sizes"]
    assert small["orderitem"]["id"] == f"{order}11"
    assert large["orderitem"]["id"] == f"{order}12"
    assert large["preorder"] == "yes"
    assert not large["warehouseitems"]
    assert large["supplierorderitems"] == [{"id": "PO-2201", "qty": "3", "eta": "2024-06-30"}]
    assert not payload["shipments"]
    assert payload["shippingaddress"]["company"] == "Acme Outfitters Receiving"
    assert payload["shippingaddress"]["state"] == "OR"
    assert payload["billingaddress"]["attn"] == "Accounts payable"
    assert payload["ponumber"] == "ACME-PO-88"
    assert payload["market"]["id"] == "Wholesale-US"


UNKNOWN_ORDER_FIELD = (
    "<ns1:giftwrap><ns1:message>Alles Gute</ns1:message><ns1:paper>gold</ns1:paper></ns1:giftwrap>"
)


# --- the double itself ------------------------------------------------------------------------


class TestDouble:
    """The double accepts the documented requests and refuses the documented mistakes."""

    @pytest.mark.parametrize("flavor_name", list(FLAVORS))
    def test_cookbook_connection_test_gets_an_empty_events_answer(
        self, double: CentraDouble, flavor_name: str
    ) -> None:
        """The cookbook's events_GetRequest gets the captured empty answer and both id headers."""
        response = post(double, flavor_name, "events_GetRequest", "<type>all</type>")
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        assert b"<ns1:events_Get><ns1:events/></ns1:events_Get>" in response.content
        ns = FLAVORS[flavor_name].namespace
        assert f'xmlns:ns1="{ns}"'.encode() in response.content
        request_id = response.headers["X-Centra-Request-ID"]
        assert request_id.startswith("1_")
        assert response.headers["X-Correlation-ID"] == f"centra_{request_id}"
        assert_clean(double)

    def test_page_is_the_oldest_hundred_until_done(self, double: CentraDouble) -> None:
        """234 queued, oldest 100 ascending; Done of 10 shows 90 seen and 10 new (§2.2)."""
        double.enqueue(
            *(QueuedEvent(i, "customer", str(i), customer(str(i))) for i in range(1234, 1000, -1))
        )
        first = post(double, "soap", "events_GetRequest", "<type>all</type>")
        ids = [
            int(x)
            for x in etree.fromstring(first.content).xpath(
                "//c:event/c:id/text()", namespaces={"c": CENTRA_NS}
            )
        ]
        assert ids == list(range(1001, 1101))
        again = post(double, "soap", "events_GetRequest", "<type>all</type>")
        assert again.content.count(b"<ns1:event>") == 100
        done = "".join(f"<event>{i}</event>" for i in [*range(1001, 1011), 99999])
        answer = post(double, "soap", "events_Done", done)
        assert b"<ns1:success>true</ns1:success><ns1:errors/><ns1:notices/>" in answer.content
        assert len(double.queued_ids()) == 224
        after = post(double, "soap", "events_GetRequest", "<type>all</type>")
        ids = [
            int(x)
            for x in etree.fromstring(after.content).xpath(
                "//c:event/c:id/text()", namespaces={"c": CENTRA_NS}
            )
        ]
        assert ids == list(range(1011, 1111))
        assert_clean(double)

    def test_type_and_markets_filter_the_window(self, double: CentraDouble) -> None:
        """type=order drops customers; events_GetByMarkets keeps only the named market."""
        double.enqueue(
            order_event(5, "30"),
            order_event(6, "31", wholesale=True),
            QueuedEvent(7, "customer", "77", customer("77")),
        )
        by_type = post(double, "soap", "events_GetRequest", "<type>order</type>")
        assert by_type.content.count(b"<ns1:event>") == 2
        by_market = post(
            double,
            "soap",
            "events_GetByMarkets",
            "<type>all</type><markets><market><id>Wholesale-US</id></market></markets>",
        )
        assert by_market.status_code == 200, by_market.text
        assert by_market.content.count(b"<ns1:event>") == 1
        assert b"<ns1:events_Get>" in by_market.content
        assert b"<ns1:entry>31</ns1:entry>" in by_market.content
        assert_clean(double)

    @pytest.mark.parametrize(
        ("operation", "inner", "kwargs", "complaint"),
        [
            ("events_Get", "<type>all</type>", {}, "events_GetRequest"),
            ("events_GetRequest", "<type>everything</type>", {}, "<type> must be one of"),
            ("events_GetRequest", "", {}, "<type> is required"),
            (
                "events_GetRequest",
                "<type>all</type>",
                {"action": "http://www.centra.com/webservices/Events_Get"},
                "SOAPAction",
            ),
            (
                "events_GetRequest",
                "<type>all</type>",
                {"action": '"http://www.centra.com/webservices/events_Get"'},
                "SOAPAction",
            ),
            (
                "events_GetRequest",
                "<type>all</type>",
                {"content_type": "application/soap+xml; charset=utf-8"},
                "Content-Type",
            ),
            ("events_Done", "<events><event>1</event></events>", {}, "unexpected element <events>"),
            ("events_GetByMarkets", "<type>all</type><markets/>", {}, "at least one <market>"),
            (
                "customers_Update",
                "<customers><customer><firstname>A</firstname><id>1</id></customer></customers>",
                {},
                "out of order",
            ),
            (
                "customers_Update",
                "<customers><customer><id>1</id><address><city>X</city></address></customer>"
                "</customers>",
                {},
                "unexpected element <address>",
            ),
            (
                "products_Update",
                "<products><product><id>P</id><variations><variation><sizes><size><id>S</id>"
                "</size></sizes><id>V</id></variation></variations></product></products>",
                {},
                "out of order",
            ),
        ],
    )
    def test_contract_breaches_get_a_fault_naming_them(
        self,
        double: CentraDouble,
        operation: str,
        inner: str,
        kwargs: dict[str, str],
        complaint: str,
    ) -> None:
        """Each documented rule, broken once, yields HTTP 500, a Client Fault and a record."""
        response = post(double, "soap", operation, inner, **kwargs)
        assert response.status_code == 500
        assert complaint in fault_text(response)
        assert len(double.violations) == 1
        assert complaint in double.violations[0]

    @pytest.mark.parametrize(
        ("body", "complaint"),
        [
            (
                b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
                b'envelope/"><soap:Body><events_GetRequest xmlns="http://www.centra.com/webservices/">'
                b"<type>all</type><login><username>erp-user</username><password>s3cret!</password>"
                b"</login></events_GetRequest></soap:Body></soap:Envelope>",
                "<login> must be the first",
            ),
            (
                b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                b'<c:events_GetRequest xmlns:c="http://www.centra.com/webservices/"><login>'
                b"<username>erp-user</username><password>s3cret!</password></login>"
                b"<type>all</type></c:events_GetRequest></soap:Body></soap:Envelope>",
                "not qualified",
            ),
            (
                b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
                b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>'
                b'<events_GetRequest xmlns="http://www.centra.com/webservices/"><login>'
                b"<username>erp-user</username><password>s3cret!</password></login>"
                b'<type xsi:type="string">all</type></events_GetRequest></soap:Body>'
                b"</soap:Envelope>",
                "xsi:type",
            ),
            (
                b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
                b"</soap:Body></soap:Envelope>",
                "SOAP 1.1",
            ),
            (
                b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                b'<events_GetRequest xmlns="http://www.silkvms.com/webservices/"><login>'
                b"<username>erp-user</username><password>s3cret!</password></login>"
                b"<type>all</type></events_GetRequest></soap:Body></soap:Envelope>",
                "must be in http://www.centra.com/webservices/",
            ),
        ],
    )
    def test_malformed_envelopes_are_refused(
        self, double: CentraDouble, body: bytes, complaint: str
    ) -> None:
        """Login order, qualification, xsi:type, SOAP version and namespace are all enforced."""
        response = post(double, "soap", "events_GetRequest", body=body)
        assert response.status_code == 500
        assert complaint in fault_text(response)
        assert complaint in double.violations[0]

    def test_partial_update_fields_are_recorded(self, double: CentraDouble) -> None:
        """The double records exactly the leaves a customers_Update carried (§4.1)."""
        response = post(
            double,
            "navision-soap",
            "customers_Update",
            "<customers><customer><id>4711</id><firstname>Ada</firstname></customer></customers>",
        )
        assert response.status_code == 200, response.text
        assert b"<ns1:result>" in response.content
        assert only_request(double).fields == [
            ("customers/customer/id", "4711"),
            ("customers/customer/firstname", "Ada"),
        ]
        assert_clean(double)

    def test_documented_stock_update_is_accepted(self, double: CentraDouble) -> None:
        """The ERP guide's stock update shape (ids + warehouseitems) passes on navision/api."""
        response = post(
            double,
            "navision-api",
            "products_Update",
            "<products><product><id>LS100</id><variations><variation><id>LS100_SAND</id>"
            "<sizes><size><id>M</id><warehouseitems><warehouse><id>DC-NORTH</id><qty>7</qty>"
            "</warehouse><warehouse><id>DC-SOUTH</id><qty>0</qty></warehouse></warehouseitems>"
            "</size></sizes></variation></variations></product></products>",
        )
        assert response.status_code == 200, response.text
        assert b"<ns1:success>true</ns1:success>" in response.content
        assert only_request(double).login == (double.username, double.password)
        assert [f for f, _ in only_request(double).fields][-2:] == [
            "products/product/variations/variation/sizes/size/warehouseitems/warehouse/id",
            "products/product/variations/variation/sizes/size/warehouseitems/warehouse/qty",
        ]
        assert_clean(double)

    @pytest.mark.parametrize("flavor_name", ["soap", "navision-soap"])
    def test_wrong_login_is_a_client_fault(self, double: CentraDouble, flavor_name: str) -> None:
        """A wrong password gets HTTP 500 with a SOAP-ENV:Client Fault (invented; §6.3)."""
        ns = FLAVORS[flavor_name].namespace
        body = envelope("events_GetRequest", "<type>all</type>", ns).replace(b"s3cret!", b"nope")
        response = post(double, flavor_name, "events_GetRequest", body=body)
        assert response.status_code == 500
        assert b"<faultcode>SOAP-ENV:Client</faultcode>" in response.content
        assert "Login failed" in fault_text(response)
        assert_clean(double)

    def test_navision_api_checks_basic_auth_and_refuses_a_body_login(
        self, double: CentraDouble
    ) -> None:
        """navision/api takes Basic auth (401 when wrong) and no <login> in the body."""
        ok = post(double, "navision-api", "events_GetRequest", "<type>all</type>")
        assert ok.status_code == 200, ok.text
        wrong = post(
            double,
            "navision-api",
            "events_GetRequest",
            "<type>all</type>",
            auth=("erp-user", "nope"),
        )
        assert wrong.status_code == 401
        assert_clean(double)
        with_login = post(
            double,
            "navision-api",
            "events_GetRequest",
            body=envelope("events_GetRequest", "<type>all</type>", SILK_NS),
        )
        assert with_login.status_code == 500
        assert "no <login> in the body" in fault_text(with_login)

    def test_fixtures_are_well_formed_and_keep_captured_order(self) -> None:
        """The order fixtures parse and follow §5's element order for their first fields."""
        ns = f'xmlns:ns1="{CENTRA_NS}"'
        retail = etree.fromstring(
            order_event(1, "9").payload_xml.replace("<ns1:order>", f"<ns1:order {ns}>", 1)
        )
        names = [etree.QName(c).localname for c in retail]
        assert names[:6] == ["id", "ordernumber", "type", "store", "status", "ordertotal"]
        assert names[-2:] == ["market", "pricelist"]
        assert names.index("additionals") < names.index("primary_warehouse")
        wholesale = etree.fromstring(
            order_event(2, "8", wholesale=True).payload_xml.replace(
                "<ns1:order>", f"<ns1:order {ns}>", 1
            )
        )
        assert [etree.QName(c).localname for c in wholesale][:4] == [
            "id",
            "type",
            "store",
            "status",
        ]


# --- the client against the double ------------------------------------------------------------


def test_get_events_returns_every_captured_field(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A captured-style page comes back as Events with every documented field of both orders."""
    double.enqueue(order_event(116, "1043", wholesale=True), order_event(115, "1042"))
    client = make_client()
    page = client.get_events()
    assert_clean(double)
    request = only_request(double)
    assert request.operation == "events_GetRequest"
    assert request.fields == [("type", "all")]
    assert [e.event_id for e in page.events] == ["115", "116"]
    retail, wholesale = page.events
    assert (retail.type, retail.entry, retail.mission, retail.date) == (
        "order",
        "1042",
        "update",
        "2019-03-27 12:52:20",
    )
    assert retail.payload_kind == "order"
    assert_retail_order(payload_of(client, retail), "1042")
    assert wholesale.payload_kind == "order"
    assert wholesale.entry == "1043"
    assert_wholesale_order(payload_of(client, wholesale), "1043")


def test_event_xml_is_the_event_on_its_own(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """Event.xml re-parses alone as the <event> element, with its id and order inside."""
    double.enqueue(order_event(115, "1042"))
    (event,) = make_client().get_events().events
    ns = FLAVORS[flavor].namespace
    element = etree.fromstring(event.xml.encode())
    assert element.tag == f"{{{ns}}}event"
    assert element.findtext(f"{{{ns}}}id") == "115"
    assert element.findtext(f"{{{ns}}}data/{{{ns}}}order/{{{ns}}}id") == "1042"
    assert_clean(double)


def test_raw_and_request_id_are_what_centra_sent(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """EventPage.raw is the HTTP body byte for byte and request_id is X-Centra-Request-ID."""
    double.enqueue(order_event(115, "1042"))
    page = make_client().get_events()
    request = only_request(double)
    assert page.raw == request.response_body
    assert page.request_id == request.response_headers["X-Centra-Request-ID"]
    assert_clean(double)


def test_unknown_elements_do_not_cost_known_fields(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """Elements the docs do not know, added mid-order, mid-line and mid-event, lose nothing."""
    event = order_event(
        115,
        "1042",
        extra_order=UNKNOWN_ORDER_FIELD,
        extra_line="<ns1:loyaltypoints>178</ns1:loyaltypoints>",
        extra_size="<ns1:batch><ns1:id>B-77</ns1:id></ns1:batch>",
    )
    event.extra_xml = "<ns1:priority>high</ns1:priority>"
    double.enqueue(event)
    client = make_client()
    (got,) = client.get_events().events
    assert (got.event_id, got.type, got.entry, got.mission, got.date) == (
        "115",
        "order",
        "1042",
        "update",
        "2019-03-27 12:52:20",
    )
    assert_retail_order(payload_of(client, got), "1042")
    assert "Alles Gute" in got.xml
    assert_clean(double)


def test_unknown_elements_are_kept_in_the_payload(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """An order field new to the docs is kept in the payload dict (records.Event promise)."""
    double.enqueue(
        order_event(
            115,
            "1042",
            extra_order=UNKNOWN_ORDER_FIELD,
            extra_line="<ns1:loyaltypoints>178</ns1:loyaltypoints>",
        )
    )
    client = make_client()
    (got,) = client.get_events().events
    payload = payload_of(client, got)
    assert payload["giftwrap"] == {"message": "Alles Gute", "paper": "gold"}
    assert payload["products"][0]["loyaltypoints"] == "178"


def test_empty_queue_gives_no_events(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """The captured empty answer (<ns1:events/>) is a page of zero events."""
    page = make_client().get_events()
    assert page.events == []
    assert page.raw == only_request(double).response_body
    assert_clean(double)


def test_event_type_goes_into_the_type_element(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """get_events(event_type=...) and the configured event_type are sent as <type>."""
    double.enqueue(order_event(115, "1042"), QueuedEvent(116, "customer", "77", customer("77")))
    client = make_client()
    page = client.get_events(event_type="customer")
    assert [(e.event_id, e.payload_kind) for e in page.events] == [("116", "customer")]
    assert payload_of(client, page.events[0])["firstname"] == "Grete"
    make_client(event_type="order").get_events()
    assert [r.fields for r in double.requests] == [[("type", "customer")], [("type", "order")]]
    assert_clean(double)


def test_markets_use_events_get_by_markets(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """Markets given by call or by settings switch to events_GetByMarkets with markets/market/id."""
    double.enqueue(order_event(115, "1042"), order_event(116, "1043", wholesale=True))
    client = make_client()
    page = client.get_events(markets=["Wholesale-US"])
    assert [e.event_id for e in page.events] == ["116"]
    assert_wholesale_order(payload_of(client, page.events[0]), "1043")
    make_client(markets=("Retail-DE", "Wholesale-US")).get_events(event_type="order")
    assert [r.operation for r in double.requests] == ["events_GetByMarkets"] * 2
    assert double.requests[0].fields == [("type", "all"), ("markets/market/id", "Wholesale-US")]
    assert double.requests[1].fields == [
        ("type", "order"),
        ("markets/market/id", "Retail-DE"),
        ("markets/market/id", "Wholesale-US"),
    ]
    assert_clean(double)


def test_events_done_sends_every_id_in_one_call(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """events_Done carries one <event> per id in a single call and the queue shrinks."""
    double.enqueue(
        order_event(115, "1042"), order_event(116, "1043", wholesale=True), order_event(117, "1044")
    )
    client = make_client()
    client.get_events()
    result = client.acknowledge(["115", "116"])
    done = double.requests_for("events_Done")
    assert len(done) == 1
    assert done[0].fields == [("event", "115"), ("event", "116")]
    assert double.queued_ids() == [117]
    assert result.success is True
    assert (result.errors, result.notices) == ([], [])
    assert result.raw == done[0].response_body
    assert result.request_id == done[0].response_headers["X-Centra-Request-ID"]
    assert [e.event_id for e in client.get_events().events] == ["117"]
    assert_clean(double)


@pytest.mark.parametrize("answer", ["eventsDoneResponse", "empty"])
def test_events_done_answered_in_an_undocumented_shape_counts_as_done(
    double: CentraDouble, make_client: ClientFactory, flavor: str, answer: str
) -> None:
    """An events_Done answer other than result (the reference's eventsDoneResponse OK, an empty
    response element) is taken as done; the shape is logged once, with its root element."""
    double.events_done_answer = answer
    double.enqueue(order_event(115, "1042"), order_event(116, "1043"))
    client = make_client()
    client.get_events()
    with capture_logs() as logs:
        first = client.acknowledge(["115"])
        second = client.acknowledge(["116"])
    assert first.success and second.success
    assert first.raw == double.requests_for("events_Done")[0].response_body
    assert double.queued_ids() == []
    shapes = [line for line in logs if "do not show" in line["event"]]
    assert [line["answer"] for line in shapes] == [
        "eventsDoneResponse" if answer == "eventsDoneResponse" else "events_DoneResponse"
    ]
    assert_clean(double)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("<eventsDoneResponse>ERROR</eventsDoneResponse>", "answered <eventsDoneResponse>"),
        (
            "<ns1:events_DoneResponse><ns1:result><ns1:success>false</ns1:success><ns1:errors>"
            "<ns1:message>Event 115 is locked</ns1:message></ns1:errors></ns1:result>"
            "</ns1:events_DoneResponse>",
            "Event 115 is locked",
        ),
    ],
)
def test_an_undocumented_events_done_answer_that_refuses_is_a_refusal(
    double: CentraDouble, make_client: ClientFactory, flavor: str, body: str, error: str
) -> None:
    """A wrapper holding a result with success=false, or a text other than OK, is not done."""
    namespace = CENTRA_NS if flavor == "soap" else SILK_NS
    envelope = (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{namespace}">'
        f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    double.next_raw.append((200, envelope.encode(), {"Content-Type": "text/xml; charset=utf-8"}))
    result = make_client().acknowledge(["115"])
    assert result.success is False
    assert any(error in message for message in result.errors), result.errors


def test_events_done_result_refusing_stays_an_error(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A result with success=false is still Centra saying no, whatever other shapes pass."""
    double.update_answers.append(UpdateAnswer(success=False, errors=["Event 115 is locked"]))
    double.enqueue(order_event(115, "1042"))
    client = make_client()
    client.get_events()
    result = client.acknowledge(["115"])
    assert result.success is False and result.errors == ["Event 115 is locked"]


def test_customers_update_sends_only_given_fields(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """customers_Update carries <id>4711</id> and firstname and no other customer element."""
    result = make_client().send_updates("customer", [{"id": "4711", "firstname": "Ada"}])
    request = only_request(double)
    assert request.operation == "customers_Update"
    assert request.fields == [
        ("customers/customer/id", "4711"),
        ("customers/customer/firstname", "Ada"),
    ]
    assert result.success is True
    assert result.request_id == request.response_headers["X-Centra-Request-ID"]
    assert_clean(double)


def test_customers_update_is_utf8_and_keeps_schema_order(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """Non-ASCII values arrive intact and customer fields follow §4.3 order whatever the dict."""
    make_client().send_updates(
        "customer",
        [
            {"email": "asa@example.se", "lastname": "Öberg", "id": "4712", "firstname": "Åsa"},
            {"id": "4713", "country": "SE"},
        ],
    )
    assert only_request(double).fields == [
        ("customers/customer/id", "4712"),
        ("customers/customer/firstname", "Åsa"),
        ("customers/customer/lastname", "Öberg"),
        ("customers/customer/email", "asa@example.se"),
        ("customers/customer/id", "4713"),
        ("customers/customer/country", "SE"),
    ]
    assert_clean(double)


def test_products_update_follows_the_documented_structure(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A stock update is products/product/variations/variation/sizes/size/warehouseitems (§4.2)."""
    make_client().send_updates(
        "product",
        [
            {
                "id": "P1",
                "variations": [
                    {
                        "id": "V1",
                        "sizes": [{"id": "S", "warehouseitems": [{"id": "W1", "qty": "5"}]}],
                    }
                ],
            }
        ],
    )
    request = only_request(double)
    assert request.operation == "products_Update"
    size = "products/product/variations/variation/sizes/size"
    assert request.fields == [
        ("products/product/id", "P1"),
        ("products/product/variations/variation/id", "V1"),
        (f"{size}/id", "S"),
        (f"{size}/warehouseitems/warehouse/id", "W1"),
        (f"{size}/warehouseitems/warehouse/qty", "5"),
    ]
    assert_clean(double)


def test_products_update_orders_children_as_documented(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """Product, variation and size children go out in §4.2 order whatever the dict order."""
    make_client().send_updates(
        "product",
        [
            {
                "variations": [
                    {
                        "sizes": [
                            {"ean": "7350000000017", "sku": "01", "id": "S"},
                            {"id": "M", "sku": "02"},
                        ],
                        "description": "Sand",
                        "sku": "SAND",
                        "stockid": "LS100_SAND",
                        "id": "LS100_SAND",
                    }
                ],
                "brand": {"description": "Nordic Linen", "id": "NL"},
                "description": "Linen shirt",
                "folder": {"description": "Shirts / Linen"},
                "sku": "LINEN100",
                "status": "active",
                "id": "LS100",
            }
        ],
    )
    var = "products/product/variations/variation"
    assert only_request(double).fields == [
        ("products/product/id", "LS100"),
        ("products/product/status", "active"),
        ("products/product/sku", "LINEN100"),
        ("products/product/description", "Linen shirt"),
        ("products/product/folder/description", "Shirts / Linen"),
        ("products/product/brand/id", "NL"),
        ("products/product/brand/description", "Nordic Linen"),
        (f"{var}/id", "LS100_SAND"),
        (f"{var}/stockid", "LS100_SAND"),
        (f"{var}/description", "Sand"),
        (f"{var}/sku", "SAND"),
        (f"{var}/sizes/size/id", "S"),
        (f"{var}/sizes/size/sku", "01"),
        (f"{var}/sizes/size/ean", "7350000000017"),
        (f"{var}/sizes/size/id", "M"),
        (f"{var}/sizes/size/sku", "02"),
    ]
    assert_clean(double)


def test_rejected_update_is_data(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """success=false with errors and notices comes back as an UpdateResult, not an exception."""
    double.update_answers.append(
        UpdateAnswer(
            success=False,
            errors=["Sizetable SML does not exist"],
            notices=["Added new product: P1"],
        )
    )
    result = make_client().send_updates("product", [{"id": "P1"}])
    assert result.success is False
    assert result.errors == ["Sizetable SML does not exist"]
    assert result.notices == ["Added new product: P1"]
    assert_clean(double)


def test_wrong_login_raises_auth_error(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A refused login (Fault, or 401 for Basic auth on navision/api) is CentraAuthError, always."""
    from bridge.centra.errors import CentraAuthError
    from bridge.config import Secret

    client = make_client(password=Secret("wrong"))
    with pytest.raises(CentraAuthError):
        client.get_events()
    with pytest.raises(CentraAuthError):
        client.acknowledge(["115"])
    with pytest.raises(CentraAuthError):
        client.send_updates("customer", [{"id": "4711", "firstname": "Ada"}])
    assert len(double.requests) == 3
    assert_clean(double)


def test_server_fault_is_a_centra_fault(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A SOAP-ENV:Server Fault on HTTP 500 is a CentraFault with its code and message."""
    from bridge.centra.errors import CentraAuthError, CentraFault

    double.next_faults.append(("SOAP-ENV:Server", "Database connection lost"))
    with pytest.raises(CentraFault) as caught:
        make_client().get_events()
    assert not isinstance(caught.value, CentraAuthError)
    assert "Server" in caught.value.code
    assert "Database connection lost" in str(caught.value)


def test_navision_api_login_in_body_when_configured() -> None:
    """navision_api_login="body" puts <login> first in the body on navision/api."""
    from bridge.centra.soap import client as centra_client
    from bridge.config import CentraSettings, Secret

    double = CentraDouble(navision_api_login="body").start()
    try:
        client = centra_client.CentraClient(
            CentraSettings(
                endpoint=double.url("navision-api"),
                username=double.username,
                password=Secret(double.password),
                flavor="navision-api",
                timeout_s=5,
                navision_api_login="body",
            )
        )
        assert client.get_events().events == []
        assert "authorization" not in only_request(double).headers
        assert_clean(double)
    finally:
        double.stop()


def test_navision_api_sends_basic_auth(double: CentraDouble) -> None:
    """By default navision/api sends the username and password as HTTP Basic auth."""
    from bridge.centra.soap import client as centra_client
    from bridge.config import CentraSettings, Secret

    centra_client.CentraClient(
        CentraSettings(
            endpoint=double.url("navision-api"),
            username=double.username,
            password=Secret(double.password),
            flavor="navision-api",
            timeout_s=5,
        )
    ).get_events()
    token = base64.b64encode(f"{double.username}:{double.password}".encode()).decode()
    assert only_request(double).headers["authorization"] == f"Basic {token}"
    assert_clean(double)


# --- events the docs leave thin, and answers a client must not trust ---------------------------


def test_delete_and_data_less_events_still_come_back(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A delete event with an id-only payload and a paymentterm event with empty data (§2.2)."""
    double.enqueue(
        QueuedEvent(
            201,
            "customer",
            "77",
            "<ns1:customer><ns1:id>77</ns1:id></ns1:customer>",
            mission="delete",
        ),
        QueuedEvent(202, "paymentterm", "NET45", ""),
    )
    client = make_client()
    deleted, term = client.get_events().events
    assert (deleted.mission, deleted.payload_kind, payload_of(client, deleted)) == (
        "delete",
        "customer",
        {"id": "77"},
    )
    assert (term.event_id, term.type, term.entry) == ("202", "paymentterm", "NET45")
    assert term.payload_kind == ""
    assert not payload_of(client, term)
    assert_clean(double)


def test_a_full_page_keeps_centras_order(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """120 queued events give the 100 oldest, ascending, in one page (§2.2)."""
    double.enqueue(
        *(QueuedEvent(i, "customer", str(i), customer(str(i))) for i in range(1120, 1000, -1))
    )
    page = make_client().get_events()
    assert [e.event_id for e in page.events] == [str(i) for i in range(1001, 1101)]
    assert_clean(double)


def test_http_503_is_unavailable(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """A 503 without a SOAP body is CentraUnavailable, worth retrying."""
    from bridge.centra.errors import CentraUnavailable

    double.next_raw.append((503, b"<html>maintenance</html>", {"Content-Type": "text/html"}))
    with pytest.raises(CentraUnavailable) as caught:
        make_client().get_events()
    assert caught.value.retryable


def test_timeout_is_unavailable(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """An answer slower than timeout_s is CentraUnavailable."""
    from bridge.centra.errors import CentraUnavailable

    double.hold = threading.Event()
    try:
        with pytest.raises(CentraUnavailable):
            make_client(timeout_s=0.2).get_events()
    finally:
        double.hold.set()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html><body>Fatal error</body></html>", "not SOAP"),
        (b"not xml at all", "not XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><SOAP-ENV:Envelope '
            b'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body/>'
            b"</SOAP-ENV:Envelope>",
            "DTD",
        ),
        (None, "wrong element"),
    ],
)
def test_untrustworthy_answers_are_protocol_errors(
    double: CentraDouble, make_client: ClientFactory, flavor: str, body: bytes | None, why: str
) -> None:
    """HTML, non-XML, a DTD, or a result where events_Get was due: CentraProtocolError."""
    from bridge.centra.errors import CentraProtocolError

    if body is None:
        from centra_double import result_envelope

        body = result_envelope(FLAVORS[flavor].namespace, UpdateAnswer())
    double.next_raw.append((200, body, {}))
    with pytest.raises(CentraProtocolError):
        make_client().get_events()


def test_oversized_answer_is_refused(
    double: CentraDouble, make_client: ClientFactory, flavor: str
) -> None:
    """An answer beyond max_response_bytes is a CentraProtocolError, not a memory spike."""
    from bridge.centra.errors import CentraProtocolError

    double.enqueue(*(order_event(i, str(i)) for i in range(1, 4)))
    with pytest.raises(CentraProtocolError):
        make_client(max_response_bytes=4096).get_events()


# --- the order lifecycle and prices, against the guide's verbatim requests ---------------------

ORDER_25 = {"id": "25", "type": "wholesale", "store": 2}
ORDER_30 = {"id": "30", "type": "retail", "store": 1}


def _line(product: str, variation: str, *sizes: tuple[str, str, str | None]) -> dict[str, Any]:
    """An order line as the bridge builds it: rows (size, qty, orderitem or None)."""
    rows = [
        {"id": size, "qty": qty, **({"orderitem": {"id": item}} if item else {})}
        for size, qty, item in sizes
    ]
    return {"id": product, "variation": {"id": variation}, "sizes": rows}


#: Each cookbook step (captures/<name>.xml, centra-next.md §1.2, §2.2) and the update the
#: bridge would send for it.
COOKBOOK_STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "orders_update_lock": ("order", {**ORDER_30, "locked": "yes"}),
    "orders_update_confirm": ("order", {**ORDER_25, "status": "confirmed", "locked": "yes"}),
    "orders_update_cancel": (
        "order",
        {**ORDER_25, "cancelled": [_line("T001", "T001_RED", ("L", "1", "71"))]},
    ),
    "orders_update_shipment_1": (
        "order",
        {
            **ORDER_25,
            "shipments": [
                {
                    "id": "shipment-25-1",
                    "shipped": "no",
                    "goodtogo": "yes",
                    "appendix": "1",
                    "products": [
                        _line("T001", "T001_BLUE", ("S", "1", "68"), ("M", "1", "69")),
                        _line("PWC", "PWC", ("OS", "2", "67")),
                    ],
                    "shipping": {"subtotal": "123"},
                }
            ],
        },
    ),
    "orders_update_shipment_2": (
        "order",
        {
            **ORDER_25,
            "shipments": [
                {
                    "id": "shipment-25-2",
                    "shipped": "no",
                    "goodtogo": "yes",
                    "appendix": "2",
                    "products": [
                        _line("T001", "T001_BLUE", ("M", "1", "69")),
                        _line("T001", "T001_RED", ("M", "3", "70"), ("L", "3", "71")),
                    ],
                    "shipping": {"subtotal": "0"},
                }
            ],
        },
    ),
    "orders_update_shipped": (
        "order",
        {
            **ORDER_25,
            "shipments": [
                {
                    "id": f"shipment-25-{n}",
                    "shipped": "yes",
                    "carrierinformation": {
                        "carrier": "DHL",
                        "service": "EXPRESS",
                        "tracking": tracking,
                    },
                }
                for n, tracking in ((1, "876543210"), (2, "987654321"))
            ],
        },
    ),
    "orders_update_dtc_ship_capture": (
        "order",
        {
            **ORDER_30,
            "status": "completed",
            "shipments": [
                {
                    "id": "8",
                    "shipped": "yes",
                    "capture": "yes",
                    "carrierinformation": {
                        "carrier": "UPS",
                        "service": "STANDARD",
                        "tracking": "1Z123123123123",
                    },
                }
            ],
        },
    ),
    "orders_update_dtc_refund": (
        "order",
        {
            **ORDER_30,
            "shipments": [
                {
                    "id": "30-1",
                    "appendix": "1",
                    "refunds": [
                        {
                            "id": "12",
                            "status": "confirmed",
                            "products": [_line("T001", "T001_RED", ("S", "1", None))],
                        }
                    ],
                }
            ],
        },
    ),
    "pricelists_update": (
        "pricelist",
        {
            "id": "EUR-Retail",
            "store": 1,
            "type": "retail",
            "currency": "EUR",
            "description": "Euro",
            "items": [
                {
                    "id": "T001",
                    "variation": [
                        {"id": "T001_RED", "price": "123"},
                        {"id": "T001_BLUE", "price": "234"},
                    ],
                },
                {"id": "PWC", "price": "1000"},
            ],
        },
    ),
}


def post_capture(double: CentraDouble, name: str) -> requests.Response:
    """POST the guide's verbatim request ``captures/<name>.xml`` with the double's login."""
    body = (CAPTURES_DIR / f"{name}.xml").read_text(encoding="utf-8")
    body = body.replace("<username>example</username>", f"<username>{double.username}</username>")
    body = body.replace("<password>???</password>", f"<password>{double.password}</password>")
    operation = name.split("_update")[0] + "_Update"
    return post(double, "soap", operation, body=body.encode())


@pytest.mark.parametrize("name", list(COOKBOOK_STEPS))
def test_the_guides_verbatim_requests_keep_the_contract(double: CentraDouble, name: str) -> None:
    """Each orders_Update and pricelists_Update of the cookbook passes the double's checks."""
    response = post_capture(double, name)
    assert response.status_code == 200, response.text
    assert b"<ns1:success>true</ns1:success>" in response.content
    assert_clean(double)


@pytest.mark.parametrize("name", list(COOKBOOK_STEPS))
def test_the_client_sends_each_cookbook_step_as_the_guide_shows_it(
    double: CentraDouble, make_client: ClientFactory, flavor: str, name: str
) -> None:
    """The bridge's update for a cookbook step carries the verbatim request's fields, in its
    order (but for the two steps where the cookbook itself departs from REF order)."""
    kind, payload = COOKBOOK_STEPS[name]
    post_capture(double, name)
    guide = double.requests[0].fields
    if name == "pricelists_update":
        guide = guide[: guide.index(("pricelists/pricelist/id", "USD-Wholesale"))]
    assert make_client().send_updates(kind, [payload]).success
    sent = double.requests[1].fields
    if name in ("orders_update_confirm", "orders_update_dtc_refund"):
        guide, sent = sorted(guide), sorted(sent)
    assert sent == guide
    assert_clean(double)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("<type>wholesale</type>", ""), "every <order> sends <type>"),
        (
            ("<orderitem>\n                    <id>71</id>\n                  </orderitem>", ""),
            "<orderitem><id>",
        ),
        (("<status>confirmed</status>", "<state>confirmed</state>"), "unexpected element <state>"),
    ],
)
def test_order_updates_breaking_the_guides_shape_are_refused(
    double: CentraDouble, change: tuple[str, str], complaint: str
) -> None:
    """A missing type, a row without orderitem, an unknown element: Faults naming the breach."""
    name = "orders_update_cancel" if "71" in change[0] else "orders_update_confirm"
    body = (CAPTURES_DIR / f"{name}.xml").read_text(encoding="utf-8").replace(*change)
    assert body != (CAPTURES_DIR / f"{name}.xml").read_text(encoding="utf-8")
    body = body.replace("example", double.username).replace("???", double.password)
    response = post(double, "soap", "orders_Update", body=body.encode())
    assert response.status_code == 500
    assert complaint in fault_text(response)

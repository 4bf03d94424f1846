"""Pure tests of reading Centra's answers and of the payload representation (no sockets)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree

from bridge.centra.errors import (
    CentraAuthError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.centra.port import Event, EventPage, UpdateResult
from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, wsdl_dir
from bridge.centra.soap.parse import (
    body_element,
    check_login,
    check_reply,
    event_payload,
    is_login_refusal,
    parse_event_page,
    parse_result,
)
from bridge.centra.soap.payload import element_value, to_zeep
from bridge.centra.soap.schema import Node, Schema, load_schema

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

ORDER = """<ns1:order>
<ns1:id>30</ns1:id><ns1:ordernumber>30</ns1:ordernumber><ns1:type>retail</ns1:type>
<ns1:store>1</ns1:store><ns1:status>processing</ns1:status><ns1:ordertotal>1135.00</ns1:ordertotal>
<ns1:currency>EUR</ns1:currency><ns1:created>2019-03-27T12:52:20+01:00</ns1:created>
<ns1:internal>false</ns1:internal><ns1:preferred_shipping_date/>
<ns1:salesrep/>
<ns1:additionals><ns1:additional><ns1:key>shipwallet_method</ns1:key><ns1:value>dhl</ns1:value>
</ns1:additional></ns1:additionals>
<ns1:primary_warehouse><ns1:warehouse><ns1:id>W1</ns1:id></ns1:warehouse></ns1:primary_warehouse>
{MIDDLE}
<ns1:shipping><ns1:subtotal>19</ns1:subtotal><ns1:description>Sweden</ns1:description></ns1:shipping>
<ns1:payments><ns1:name>adyen</ns1:name><ns1:type>cc</ns1:type>
<ns1:payment><ns1:type>auth</ns1:type><ns1:transaction>PSP1</ns1:transaction></ns1:payment>
</ns1:payments>
<ns1:products><ns1:product><ns1:id>LS100</ns1:id><ns1:tax>25.000</ns1:tax>{LINE}
<ns1:variation><ns1:id>LS100_SAND</ns1:id><ns1:description>Sand</ns1:description></ns1:variation>
<ns1:sizes><ns1:size><ns1:id>M</ns1:id><ns1:qty>2</ns1:qty>
<ns1:orderitem><ns1:id>3001</ns1:id></ns1:orderitem>
<ns1:warehouseitems><ns1:warehouse><ns1:id>W1</ns1:id><ns1:qty>2</ns1:qty></ns1:warehouse>
</ns1:warehouseitems><ns1:supplierorderitems/></ns1:size></ns1:sizes>
</ns1:product></ns1:products>
<ns1:cancelled/>
<ns1:shipments/>
<ns1:shippingaddress><ns1:firstname>Grete</ns1:firstname><ns1:country>SE</ns1:country>
</ns1:shippingaddress>
<ns1:other>Bitte bei M\u00fcller abgeben &amp; klingeln</ns1:other>
<ns1:market><ns1:id>Retail-SE</ns1:id><ns1:description>Sweden</ns1:description></ns1:market>
</ns1:order>"""

EVENT = """<ns1:event><ns1:id>{ID}</ns1:id><ns1:type>order</ns1:type><ns1:entry>30</ns1:entry>
<ns1:mission>update</ns1:mission><ns1:date>2019-03-27 12:52:20</ns1:date>{EXTRA}
<ns1:data>{ORDER}</ns1:data></ns1:event>"""


def page(*events: str) -> bytes:
    """A page in the style of the real capture: SOAP-ENV/ns1 prefixes, bare prolog."""
    inner = "".join(events)
    body = f"<ns1:events>{inner}</ns1:events>" if inner else "<ns1:events/>"
    return (
        '<?xml version="1.0"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="'
        f'{SOAP_ENV}" xmlns:ns1="{CENTRA_NS}"><SOAP-ENV:Body><ns1:events_Get>{body}'
        "</ns1:events_Get></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    ).encode()


def event(event_id: str = "115", *, middle: str = "", line: str = "", extra: str = "") -> str:
    order = ORDER.replace("{MIDDLE}", middle).replace("{LINE}", line)
    return EVENT.replace("{ID}", event_id).replace("{EXTRA}", extra).replace("{ORDER}", order)


def envelope(inner: str) -> bytes:
    return (
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{CENTRA_NS}">'
        f"<SOAP-ENV:Body>{inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(wsdl_dir() / MAIN_WSDL)


def read_page(body: bytes, schema: Schema) -> EventPage:
    return parse_event_page(check_reply(200, body), schema, raw=body, request_id="r1")


def payload_of(event: Event, schema: Schema) -> dict[str, Any]:
    return event_payload(event.xml, schema)


def order_node(schema: Schema) -> Node:
    return schema.element("orders_Update").child("orders/order")


def assert_known_order_fields(payload: dict[str, Any]) -> None:
    """Every field of ORDER, in the representation promised by bridge.centra.soap.payload."""
    assert payload["id"] == "30"
    assert payload["store"] == "1"
    assert payload["internal"] == "false"
    assert payload["preferred_shipping_date"] == ""
    assert payload["salesrep"] == ""
    assert payload["additionals"] == [{"key": "shipwallet_method", "value": "dhl"}]
    assert payload["primary_warehouse"] == {"warehouse": {"id": "W1"}}
    assert payload["shipping"] == {"subtotal": "19", "description": "Sweden"}
    assert payload["payments"] == {
        "name": "adyen",
        "type": "cc",
        "payment": [{"type": "auth", "transaction": "PSP1"}],
    }
    (line,) = payload["products"]
    assert line["id"] == "LS100"
    assert line["tax"] == "25.000"
    assert line["variation"] == {"id": "LS100_SAND", "description": "Sand"}
    assert line["sizes"] == [
        {
            "id": "M",
            "qty": "2",
            "orderitem": {"id": "3001"},
            "warehouseitems": [{"id": "W1", "qty": "2"}],
            "supplierorderitems": [],
        }
    ]
    assert payload["cancelled"] == []
    assert payload["shipments"] == []
    assert payload["shippingaddress"] == {"firstname": "Grete", "country": "SE"}
    assert payload["other"] == "Bitte bei Müller abgeben & klingeln"
    assert payload["market"] == {"id": "Retail-SE", "description": "Sweden"}


class TestEventPage:
    def test_capture_style_page(self, schema: Schema) -> None:
        """A page shaped like the real capture yields every event field and the full order."""
        body = page(event("115"), event("116"))
        got = read_page(body, schema)
        assert got.raw == body
        assert got.request_id == "r1"
        assert [e.event_id for e in got.events] == ["115", "116"]
        first = got.events[0]
        assert (first.type, first.entry, first.mission, first.date) == (
            "order",
            "30",
            "update",
            "2019-03-27 12:52:20",
        )
        assert first.payload_kind == "order"
        assert_known_order_fields(payload_of(first, schema))

    def test_event_xml_stands_alone(self, schema: Schema) -> None:
        """Event.xml is the <event> element by itself, namespace declarations included."""
        (got,) = read_page(page(event("115")), schema).events
        element = etree.fromstring(got.xml.encode())
        assert element.tag == f"{{{CENTRA_NS}}}event"
        order_id = element.find(f"{{{CENTRA_NS}}}data/{{{CENTRA_NS}}}order/{{{CENTRA_NS}}}id")
        assert order_id is not None and order_id.text == "30"
        assert not got.xml.endswith("\n")

    def test_unknown_elements_mid_order_and_mid_line_are_kept(self, schema: Schema) -> None:
        """New elements in the middle of an order and of a line cost no known field."""
        body = page(
            event(
                middle="<ns1:giftwrap><ns1:paper>gold</ns1:paper><ns1:paper>red</ns1:paper>"
                "</ns1:giftwrap><ns1:loyalty>12</ns1:loyalty>",
                line="<ns1:loyaltypoints>178</ns1:loyaltypoints>",
                extra="<ns1:priority>high</ns1:priority>",
            )
        )
        (got,) = read_page(body, schema).events
        payload = payload_of(got, schema)
        assert_known_order_fields(payload)
        assert payload["giftwrap"] == {"paper": ["gold", "red"]}
        assert payload["loyalty"] == "12"
        assert payload["products"][0]["loyaltypoints"] == "178"
        assert "<ns1:priority>high</ns1:priority>" in got.xml
        assert got.mission == "update"

    def test_default_namespace_style_reads_the_same(self, schema: Schema) -> None:
        """Prefixes do not matter: the cookbook's default-namespace style gives equal events."""
        prefixed = page(event("115"))
        default = (
            prefixed.replace(b"ns1:", b"")
            .replace(b"xmlns:ns1=", b"xmlns=")
            .replace(b"SOAP-ENV:", b"s:")
            .replace(b"xmlns:SOAP-ENV", b"xmlns:s")
        )
        (a,) = read_page(prefixed, schema).events
        (b,) = read_page(default, schema).events
        assert (a.event_id, a.type, a.payload_kind, payload_of(a, schema)) == (
            b.event_id,
            b.type,
            b.payload_kind,
            payload_of(b, schema),
        )

    def test_empty_events(self, schema: Schema) -> None:
        """The captured empty answer <ns1:events/> is a page without events."""
        assert read_page(page(), schema).events == []

    def test_duplicate_ids_are_returned_as_sent(self, schema: Schema) -> None:
        """The page is reported as Centra sent it; de-duplication is the store's job."""
        got = read_page(page(event("7"), event("7")), schema)
        assert [e.event_id for e in got.events] == ["7", "7"]

    def test_event_without_id_is_left_out_not_its_neighbours(self, schema: Schema) -> None:
        """An event nobody could acknowledge is described; the rest of the page still counts."""
        broken = event("8").replace("<ns1:id>8</ns1:id>", "", 1)
        got = read_page(page(event("7"), broken, event("9")), schema)
        assert [e.event_id for e in got.events] == ["7", "9"]
        (reason,) = got.unreadable
        assert reason.startswith("event #2 of the page has no <id>")

    def test_event_without_id_is_described_without_secrets(self, schema: Schema) -> None:
        """The description of an event nobody can acknowledge (it is logged) masks passwords."""
        broken = (
            "<ns1:event><ns1:type>account</ns1:type><ns1:data><ns1:account>"
            "<ns1:password>buyer-secret-77</ns1:password></ns1:account></ns1:data>"
            "</ns1:event>"
        )
        (reason,) = read_page(page(broken), schema).unreadable
        assert "buyer-secret-77" not in reason
        assert "password" in reason

    def test_event_without_type_comes_with_empty_type(self, schema: Schema) -> None:
        """A type-less event is kept (and later ignored) rather than refusing the page."""
        broken = event("8").replace("<ns1:type>order</ns1:type>", "", 1)
        (got,) = read_page(page(broken), schema).events
        assert (got.event_id, got.type, payload_of(got, schema)["id"]) == ("8", "", "30")

    def test_event_without_data(self, schema: Schema) -> None:
        """A delete-style event with no <data> still comes through, with an empty payload."""
        body = page(
            "<ns1:event><ns1:id>9</ns1:id><ns1:type>order</ns1:type>"
            "<ns1:mission>delete</ns1:mission></ns1:event>"
        )
        (got,) = read_page(body, schema).events
        assert (got.payload_kind, payload_of(got, schema), got.mission, got.date) == (
            "",
            {},
            "delete",
            "",
        )

    def test_stored_xml_that_is_not_xml_names_the_problem(self, schema: Schema) -> None:
        """Reading a payload from a damaged stored event is a CentraProtocolError, not a crash."""
        with pytest.raises(CentraProtocolError, match="stored event XML is not well-formed"):
            event_payload("<ns1:event><ns1:data>", schema)

    def test_wrong_body_element(self, schema: Schema) -> None:
        """An answer that is not events_Get is refused."""
        body = envelope("<ns1:something/>")
        with pytest.raises(CentraProtocolError, match="expected events_Get"):
            read_page(body, schema)

    def test_other_namespace_is_the_wrong_element(self, schema: Schema) -> None:
        """events_Get in the legacy namespace is not the answer of the soap/api endpoint."""
        body = page(event()).replace(CENTRA_NS.encode(), b"http://www.silkvms.com/webservices/")
        with pytest.raises(CentraProtocolError, match="expected events_Get"):
            read_page(body, schema)

    def test_refusing_result_instead_of_events(self, schema: Schema) -> None:
        """A result with success=false where events were expected is Centra's refusal."""
        body = envelope(
            "<ns1:result><ns1:success>false</ns1:success><ns1:errors><ns1:message>"
            "Invalid login</ns1:message></ns1:errors></ns1:result>"
        )
        with pytest.raises(CentraAuthError, match="Invalid login"):
            read_page(body, schema)
        other = body.replace(b"Invalid login", b"Maintenance")
        with pytest.raises(CentraFault, match="Maintenance") as caught:
            read_page(other, schema)
        assert not isinstance(caught.value, CentraAuthError)


class TestHostileOrBrokenAnswers:
    @pytest.mark.parametrize(
        "body",
        [
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 '
            b'"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b"<x>&lol3;</x></s:Body></s:Envelope>",
            b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b"<x>&xxe;</x></s:Body></s:Envelope>",
            b'<!DOCTYPE s:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/>'
            b"</s:Body></s:Envelope>",
            b"<!DOCTYPE html><html><body>Bad gateway</body></html>",
        ],
        ids=["billion-laughs", "xxe", "external-dtd", "html-doctype"],
    )
    def test_doctype_is_refused(self, body: bytes) -> None:
        """Any DOCTYPE is refused before anything is read from the document."""
        with pytest.raises(CentraProtocolError, match="DOCTYPE"):
            body_element(body)

    @pytest.mark.parametrize(
        ("body", "complaint"),
        [
            (b"", "empty answer"),
            (b"<html><body>oops</body></html>", "not a SOAP 1.1 envelope"),
            (b"Internal error", "not XML"),
            (
                b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/>'
                b"</s:Envelope>",
                "empty SOAP body",
            ),
        ],
    )
    def test_unusable_answers(self, body: bytes, complaint: str) -> None:
        """Empty, non-XML, non-SOAP and empty-body answers are protocol errors."""
        with pytest.raises(CentraProtocolError, match=complaint):
            check_reply(200, body)


FAULT = (
    f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
    "<faultcode>SOAP-ENV:{code}</faultcode><faultstring>{text}</faultstring>"
    "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def fault(code: str, text: str) -> bytes:
    return FAULT.replace("{code}", code).replace("{text}", text).encode()


class TestStatusAndFaults:
    def test_fault_keeps_code_and_message(self) -> None:
        """A Server Fault is a CentraFault with the faultcode's local part and the faultstring."""
        with pytest.raises(CentraFault) as caught:
            check_reply(500, fault("Server", "Database connection lost"), request_id="r9")
        assert not isinstance(caught.value, CentraAuthError)
        assert caught.value.code == "Server"
        assert "Database connection lost" in str(caught.value)
        assert caught.value.request_id == "r9"

    @pytest.mark.parametrize(
        "text", ["Login failed", "Invalid password", "Not authenticated", "Bad credentials"]
    )
    def test_login_fault_is_auth_error(self, text: str) -> None:
        """A Fault about the login is a CentraAuthError, on 500 and on 200 alike."""
        for status in (500, 200):
            with pytest.raises(CentraAuthError, match=text):
                check_reply(status, fault("Client", text))

    def test_html_error_page_is_unavailable(self) -> None:
        """HTTP 502 with an HTML page is CentraUnavailable with the status kept."""
        with pytest.raises(CentraUnavailable) as caught:
            check_reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        assert caught.value.status_code == 502
        assert caught.value.retryable

    def test_throttled_is_unavailable(self) -> None:
        """HTTP 429 with a plain-text body is worth retrying later."""
        with pytest.raises(CentraUnavailable) as caught:
            check_reply(429, b"slow down")
        assert caught.value.status_code == 429

    @pytest.mark.parametrize("status", [401, 403])
    def test_http_auth_refusal(self, status: int) -> None:
        """HTTP 401/403 is a refused login whatever the body."""
        with pytest.raises(CentraAuthError, match=str(status)):
            check_reply(status, b"Unauthorized")

    def test_other_client_errors_are_protocol_errors(self) -> None:
        """A 404 page means a wrong endpoint: not retryable, not a fault."""
        with pytest.raises(CentraProtocolError, match="404"):
            check_reply(404, b"<html><body>Not found</body></html>")


class TestResult:
    def test_result_with_errors_and_notices(self, schema: Schema) -> None:
        """success, errors and notices come through as sent; a rejection is data."""
        body = envelope(
            "<ns1:result><ns1:success>false</ns1:success><ns1:errors>"
            "<ns1:message>Sizetable SML does not exist</ns1:message></ns1:errors>"
            "<ns1:notices><ns1:message>Added new product: P1</ns1:message>"
            "<ns1:message>second</ns1:message></ns1:notices></ns1:result>"
        )
        result = check_login(parse_result(check_reply(200, body), schema, raw=body))
        assert result == UpdateResult(
            False, ["Sizetable SML does not exist"], ["Added new product: P1", "second"], None, body
        )

    def test_empty_containers(self, schema: Schema) -> None:
        """<ns1:errors/> and <ns1:notices/> are empty lists."""
        body = envelope(
            "<ns1:result><ns1:success>true</ns1:success><ns1:errors/><ns1:notices/></ns1:result>"
        )
        result = parse_result(check_reply(200, body), schema, raw=body)
        assert (result.success, result.errors, result.notices) == (True, [], [])

    def test_login_rejection_raises(self, schema: Schema) -> None:
        """success=false because of the login is not data but a CentraAuthError."""
        body = envelope(
            "<ns1:result><ns1:success>false</ns1:success><ns1:errors><ns1:message>"
            "Authentication failed</ns1:message></ns1:errors></ns1:result>"
        )
        with pytest.raises(CentraAuthError):
            check_login(parse_result(check_reply(200, body), schema, raw=body))

    def test_missing_success(self, schema: Schema) -> None:
        """A result without <success> cannot be trusted."""
        body = envelope("<ns1:result><ns1:errors/></ns1:result>")
        with pytest.raises(CentraProtocolError, match="success"):
            parse_result(check_reply(200, body), schema, raw=body)


def value_of(xml: str, node: Node | None) -> Any:
    return element_value(etree.fromstring(f'<w xmlns="{CENTRA_NS}">{xml}</w>')[0], node)


class TestPayloadFromXml:
    def test_wrapper_with_one_item_is_a_list(self, schema: Schema) -> None:
        """products/product with a single product is still a list."""
        got = value_of(
            "<order><products><product><id>A</id></product></products></order>", order_node(schema)
        )
        assert got == {"products": [{"id": "A"}]}

    def test_wrapper_with_other_children_stays_a_dict(self, schema: Schema) -> None:
        """A wrapper that gained a sibling of its items keeps both, as a dict."""
        got = value_of(
            "<order><products><count>1</count><product><id>A</id></product></products></order>",
            order_node(schema),
        )
        assert got == {"products": {"count": "1", "product": [{"id": "A"}]}}

    def test_unknown_repeated_siblings_become_a_list(self) -> None:
        """Undeclared elements that repeat are a list; a lone one is a value."""
        got = value_of("<x><tag>a</tag><tag>b</tag><one>c</one></x>", None)
        assert got == {"tag": ["a", "b"], "one": "c"}

    def test_shape_depends_on_context(self, schema: Schema) -> None:
        """product/variation repeats in a pricelist but is one reference in an order line."""
        pricelist = schema.element("pricelists_Update").child("pricelists/pricelist")
        got = value_of(
            "<pricelist><items><product><id>P</id><variation><id>V</id></variation>"
            "</product></items></pricelist>",
            pricelist,
        )
        assert got == {"items": [{"id": "P", "variation": [{"id": "V"}]}]}
        line = order_node(schema).child("products/product")
        assert value_of("<product><variation><id>V</id></variation></product>", line) == {
            "variation": {"id": "V"}
        }

    def test_declared_single_element_sent_twice_is_kept(self, schema: Schema) -> None:
        """A field declared once but sent twice becomes a list rather than losing one."""
        got = value_of("<order><status>a</status><status>b</status></order>", order_node(schema))
        assert got == {"status": ["a", "b"]}

    def test_comments_are_not_content(self, schema: Schema) -> None:
        """Comments between elements neither add keys nor break list detection."""
        got = value_of(
            "<order><!-- c --><products><!-- c --><product><id>A</id></product></products></order>",
            order_node(schema),
        )
        assert got == {"products": [{"id": "A"}]}


class TestPayloadToZeep:
    def test_lists_get_their_item_element(self, schema: Schema) -> None:
        """A wrapper list becomes zeep's {item: [...]} at every level."""
        products = schema.element("products_Update").children["products"].node
        shaped = to_zeep(
            [
                {
                    "id": "P",
                    "variations": [
                        {
                            "id": "V",
                            "sizes": [{"id": "S", "warehouseitems": [{"id": "W", "qty": "5"}]}],
                        }
                    ],
                }
            ],
            products,
            "products",
        )
        assert shaped == {
            "product": [
                {
                    "id": "P",
                    "variations": {
                        "variation": [
                            {
                                "id": "V",
                                "sizes": {
                                    "size": [
                                        {
                                            "id": "S",
                                            "warehouseitems": {
                                                "warehouse": [{"id": "W", "qty": "5"}]
                                            },
                                        }
                                    ]
                                },
                            }
                        ]
                    },
                }
            ]
        }

    def test_missing_keys_stay_missing(self, schema: Schema) -> None:
        """Only given keys are sent; None is the same as leaving a key out."""
        customers = schema.element("customers_Update").children["customers"].node
        assert to_zeep(
            [{"id": "1", "firstname": "Ada", "lastname": None}], customers, "customers"
        ) == {"customer": [{"id": "1", "firstname": "Ada"}]}

    def test_parsed_order_round_trips(self, schema: Schema) -> None:
        """An order as parsed maps back onto the zeep shape of the same XML."""
        (got,) = read_page(page(event()), schema).events
        shaped = to_zeep(payload_of(got, schema), order_node(schema), "order")
        assert shaped["salesrep"] == {}
        assert shaped["cancelled"] == {"product": []}
        assert shaped["payments"]["payment"] == [{"type": "auth", "transaction": "PSP1"}]
        assert shaped["products"]["product"][0]["sizes"]["size"][0]["warehouseitems"] == {
            "warehouse": [{"id": "W1", "qty": "2"}]
        }
        assert shaped["primary_warehouse"] == {"warehouse": {"id": "W1"}}

    @pytest.mark.parametrize(
        ("products", "path"),
        [
            (
                [{"id": "P", "variations": [{"id": "V"}, {"colour": "red"}]}],
                "products[0].variations[1].colour",
            ),
            ([{"id": "P"}, {"price": "9"}], "products[1].price"),
            (
                [{"variations": [{"sizes": [{"warehouseitems": [{"bin": "7"}]}]}]}],
                "products[0].variations[0].sizes[0].warehouseitems[0].bin",
            ),
        ],
    )
    def test_unknown_key_names_its_path(
        self, schema: Schema, products: list[Any], path: str
    ) -> None:
        """A key the WSDL does not declare is refused with its full path."""
        node = schema.element("products_Update").children["products"].node
        with pytest.raises(ValueError, match=f"unknown key {re.escape(path)}:"):
            to_zeep(products, node, "products")

    def test_wrong_kinds_are_refused(self, schema: Schema) -> None:
        """A list where one value belongs, or a dict for a text element, names the path."""
        node = schema.element("products_Update").children["products"].node
        with pytest.raises(ValueError, match=r"products\[0\]\.brand: .*not a list"):
            to_zeep([{"brand": [{"id": "x"}]}], node, "products")
        with pytest.raises(ValueError, match=r"products\[0\]\.sku: expected a single"):
            to_zeep([{"sku": {"id": "x"}}], node, "products")
        with pytest.raises(ValueError, match=r"products\[0\]: expected an object"):
            to_zeep(["P1"], node, "products")


class TestPayloadFromXmlEdges:
    def test_declared_children_in_another_namespace_keep_their_shape(self, schema: Schema) -> None:
        """Children are matched by local name: a foreign-namespace wrapper still reads as a list."""
        got = value_of(
            '<order><products xmlns:o="urn:other"><o:product><o:id>A</o:id>'
            "</o:product></products><o:status xmlns:o='urn:other'>x</o:status>"
            "</order>",
            order_node(schema),
        )
        assert got == {"products": [{"id": "A"}], "status": "x"}

    def test_element_holding_only_comments_is_its_text(self, schema: Schema) -> None:
        """Comments are not children: the element reads as text, an empty wrapper as []."""
        got = value_of(
            "<order><status>a<!-- c --></status><products><!-- c --></products></order>",
            order_node(schema),
        )
        assert got == {"status": "a", "products": []}

    def test_unknown_element_sent_three_times_is_one_list(self) -> None:
        """Every repetition of an undeclared name lands in one list, in document order."""
        got = value_of("<x><tag>a</tag><one>b</one><tag>c</tag><tag>d</tag></x>", None)
        assert got == {"tag": ["a", "c", "d"], "one": "b"}

    def test_schema_indexes_children_by_wire_tag(self, schema: Schema) -> None:
        """Each child is found by its qualified and its bare tag, with its sequence position."""
        order = order_node(schema)
        status = order.children["status"]
        assert status.tag == f"{{{CENTRA_NS}}}status"
        assert order.by_tag[status.tag] is order.by_tag["status"] is status
        assert [order.position[f.tag] for f in order.children.values()] == list(
            range(len(order.children))
        )


@pytest.mark.parametrize(
    "message",
    [
        "Login failed: wrong username or password",
        "Login failed: unknown username or wrong password",
        "Invalid login",
        "Authentication failed for user erp",
        "Wrong username or password",
        "Invalid credentials",
        "Unauthorized",
        "Access denied",
        "You are not logged in",
    ],
)
def test_refusals_of_the_login_are_recognised(message: str) -> None:
    """Each phrasing of a refused login pauses the bridge instead of failing one call."""
    assert is_login_refusal(message)


@pytest.mark.parametrize(
    "message",
    [
        "Customer password must be at least 8 characters",
        "Could not save customer C1001: field login is too long",
        "Email login@example.com is already taken",
        "Database connection lost",
        "Sizetable SML does not exist",
        "Unknown product P1 (credential check skipped)",
    ],
)
def test_business_errors_that_mention_a_password_are_not_a_bad_login(message: str) -> None:
    """Messages that merely contain "password" or "login" are errors of that one call."""
    assert not is_login_refusal(message)

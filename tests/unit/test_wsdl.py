"""The three WSDLs: self-contained, consistent with each other and with the wire contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.plugins import Plugin
from zeep.transports import Transport

from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, SILKVMS_NS, wsdl_dir
from bridge.centra.soap.payload import element_value, to_zeep
from bridge.centra.soap.schema import WSDL_NS, XSD_NS, Node, Schema, load_schema

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BASE = "https://example.centra.com/ams/system/service/module/"
#: file → (namespace, address path) per centra-soap.md §1.1.
FILES = {
    MAIN_WSDL: (CENTRA_NS, "soap/api"),
    "navision-soap.wsdl": (SILKVMS_NS, "navision/soap"),
    "navision-api.wsdl": (SILKVMS_NS, "navision/api"),
}
UPDATES = [
    "accounts",
    "customers",
    "deliverywindows",
    "invoices",
    "markets",
    "orders",
    "paymentterms",
    "pricealterationdates",
    "pricelists",
    "products",
    "salesreps",
    "shippingterms",
    "sizes",
    "warehouses",
]
#: operation → (input element, output element), centra-soap.md §1.3.
OPERATIONS = {
    "events_Get": ("events_GetRequest", "events_Get"),
    "events_GetByMarkets": ("events_GetByMarkets", "events_Get"),
    "events_Done": ("events_Done", "result"),
    **{f"{name}_Update": (f"{name}_Update", "result") for name in UPDATES},
}
#: List wrappers named in centra-soap.md (parent → item), all of which must be lists.
DOCUMENTED_WRAPPERS = {
    ("products", "product"),
    ("cancelled", "product"),
    ("sizes", "size"),
    ("shipments", "shipment"),
    ("refunds", "refund"),
    ("additionals", "additional"),
    ("warehouseitems", "warehouse"),
    ("supplierorderitems", "supplierorder"),
    ("variations", "variation"),
    ("media", "image"),
    ("metadata", "storemeta"),
    ("displays", "display"),
    ("categories", "category"),
    ("categoriesremove", "category"),
    ("markets", "market"),
    ("marketsremove", "market"),
    ("customers", "customer"),
    ("buyers", "buyer"),
    ("addresses", "address"),
    ("mastersalesrep", "salesrep"),
    ("errors", "message"),
    ("notices", "message"),
    ("events", "event"),
    ("paymentterms", "paymentterms"),
    ("shippingterms", "shippingterms"),
}
ZEEP_SETTINGS = zeep.Settings(
    strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False
)


class OfflineTransport(Transport):
    """Fails the test on any attempt to reach the network."""

    def load(self, url: str) -> bytes:
        assert not url.startswith(("http:", "https:")), f"WSDL loading fetched {url}"
        return bytes(super().load(url))

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
        raise AssertionError(f"a test tried to POST to {address}")


class Captured(Plugin):
    """Keeps the HTTP headers zeep would send with the last message."""

    headers: dict[str, str]

    def egress(
        self, envelope: Any, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[Any, dict[str, str]]:
        self.headers = dict(http_headers)
        return envelope, http_headers


def offline_client(name: str, *plugins: Plugin) -> zeep.Client:
    return zeep.Client(
        str(wsdl_dir() / name),
        transport=OfflineTransport(),
        settings=ZEEP_SETTINGS,
        plugins=list(plugins),
    )


def body_of(envelope: etree._Element) -> etree._Element:
    return envelope.find(f"{{{SOAP_ENV}}}Body")[0]


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


def leaf_paths(element: etree._Element, prefix: str = "") -> list[str]:
    """Slash paths of local names to every element holding text, in document order."""
    path = f"{prefix}{etree.QName(element).localname}"
    if len(element) == 0:
        return [path] if (element.text or "").strip() else []
    return [leaf for child in element for leaf in leaf_paths(child, f"{path}/")]


def shape(node: Node, seen: frozenset[int] = frozenset()) -> Any:
    """A namespace-free picture of a node tree; recursive types stop at their name."""
    if id(node) in seen:
        return node.name
    seen = seen | {id(node)}
    return (
        node.simple,
        node.open,
        tuple(
            (name, field.repeated, shape(field.node, seen)) for name, field in node.children.items()
        ),
    )


def wrappers(schema: Schema) -> set[tuple[str, str]]:
    """Every (element, item) pair in the schema whose element is a list wrapper."""
    found: set[tuple[str, str]] = set()
    seen: set[int] = set()

    def visit(name: str, node: Node) -> None:
        if node.item is not None:
            found.add((name, node.item.name))
        if id(node) in seen:
            return
        seen.add(id(node))
        for child_name, child in node.children.items():
            visit(child_name, child.node)

    for name, node in schema.elements.items():
        visit(name, node)
    return found


class TestFiles:
    def test_found_in_the_checkout(self) -> None:
        """From a source checkout the WSDLs are found at <repo>/wsdl."""
        assert wsdl_dir() == Path(__file__).resolve().parents[2] / "wsdl"
        assert {path.name for path in wsdl_dir().glob("*.wsdl")} == set(FILES)

    def test_found_in_a_wheel_layout(self, tmp_path: Path) -> None:
        """In an installed wheel they sit inside the package, at bridge/wsdl."""
        package = tmp_path / "site-packages" / "bridge"
        (package / "wsdl").mkdir(parents=True)
        (package / "wsdl" / MAIN_WSDL).write_bytes(b"<x/>")
        assert wsdl_dir(package) == package / "wsdl"

    def test_missing_files_are_reported(self, tmp_path: Path) -> None:
        """A broken installation fails loudly, naming where it looked."""
        with pytest.raises(FileNotFoundError, match=MAIN_WSDL):
            wsdl_dir(tmp_path / "bridge")

    @pytest.mark.parametrize("name", list(FILES))
    def test_self_contained(self, name: str) -> None:
        """No import, include or SOAP-encoding reference that could reach the network."""
        root = etree.parse(str(wsdl_dir() / name)).getroot()
        for tag in ("import", "include", "redefine"):
            assert root.findall(f".//{{{XSD_NS}}}{tag}") == []
            assert root.findall(f".//{{{WSDL_NS}}}{tag}") == []
        text = (wsdl_dir() / name).read_text(encoding="utf-8")
        assert "soap/encoding" not in text
        assert "arrayType" not in text


@pytest.mark.parametrize("name", list(FILES))
class TestEachWsdl:
    def test_zeep_loads_it_offline(self, name: str) -> None:
        """zeep loads it with forbid_external and finds the documented names."""
        namespace, path = FILES[name]
        client = offline_client(name)
        port = client.wsdl.services["CentraService"].ports["CentraPort"]
        assert port.binding_options["address"] == BASE + path
        assert list(client.wsdl.port_types) == [f"{{{namespace}}}CentraPortType"]
        binding = client.wsdl.bindings[f"{{{namespace}}}CentraBinding"]
        assert set(binding._operations) == set(OPERATIONS)

    def test_operations_match_the_contract(self, name: str) -> None:
        """Input and output elements and SOAPActions per centra-soap.md §1.2 and §1.3."""
        namespace, _ = FILES[name]
        binding = offline_client(name).wsdl.bindings[f"{{{namespace}}}CentraBinding"]
        for operation, (request, answer) in OPERATIONS.items():
            op = binding.get(operation)
            assert op.input.body.qname == f"{{{namespace}}}{request}"
            assert op.output.body.qname == f"{{{namespace}}}{answer}"
            assert op.soapaction == namespace + operation[0].upper() + operation[1:]

    def test_login_is_first_and_optional(self, name: str) -> None:
        """Every request element starts with an optional login (navision/api may omit it)."""
        root = etree.parse(str(wsdl_dir() / name)).getroot()
        for request, _ in OPERATIONS.values():
            (element,) = root.xpath(
                f"//xsd:schema/xsd:element[@name='{request}']", namespaces={"xsd": XSD_NS}
            )
            first = element.find(f".//{{{XSD_NS}}}element")
            assert (first.get("name"), first.get("minOccurs")) == ("login", "0")

    def test_schema_is_qualified_in_its_namespace(self, name: str) -> None:
        """targetNamespace and elementFormDefault as the captured messages show."""
        namespace, _ = FILES[name]
        root = etree.parse(str(wsdl_dir() / name)).getroot()
        schema = root.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
        assert root.get("targetNamespace") == namespace
        assert schema.get("targetNamespace") == namespace
        assert schema.get("elementFormDefault") == "qualified"

    def test_events_get_request_serialisation(self, name: str) -> None:
        """events_Get sends events_GetRequest: login first, then type, all qualified."""
        namespace, _ = FILES[name]
        captured = Captured()
        client = offline_client(name, captured)
        service = client.create_service(f"{{{namespace}}}CentraBinding", "http://127.0.0.1:9/x")
        message = client.create_message(
            service, "events_Get", type="order", login={"username": "u", "password": "p"}
        )
        request = body_of(message)
        assert request.tag == f"{{{namespace}}}events_GetRequest"
        assert local_names(request) == ["login", "type"]
        assert all(el.tag.startswith(f"{{{namespace}}}") for el in request.iter())
        assert captured.headers["SOAPAction"] == f'"{namespace}Events_Get"'

    def test_events_done_repeats_event(self, name: str) -> None:
        """events_Done carries one <event> per id directly under it, no wrapper (§3)."""
        namespace, _ = FILES[name]
        captured = Captured()
        client = offline_client(name, captured)
        service = client.create_service(f"{{{namespace}}}CentraBinding", "http://127.0.0.1:9/x")
        message = client.create_message(service, "events_Done", event=["115", "116", "117"])
        request = body_of(message)
        assert local_names(request) == ["event", "event", "event"]
        assert [el.text for el in request] == ["115", "116", "117"]
        assert captured.headers["SOAPAction"] == f'"{namespace}Events_Done"'

    def test_products_update_element_names(self, name: str) -> None:
        """A payload in the project's representation serialises to the documented names."""
        namespace, _ = FILES[name]
        captured = Captured()
        client = offline_client(name, captured)
        schema = load_schema(wsdl_dir() / name)
        products = schema.element("products_Update").children["products"].node
        shaped = to_zeep(
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
            products,
            "products",
        )
        service = client.create_service(f"{{{namespace}}}CentraBinding", "http://127.0.0.1:9/x")
        message = client.create_message(service, "products_Update", products=shaped)
        paths = leaf_paths(body_of(message))
        size = "products_Update/products/product/variations/variation/sizes/size"
        assert paths == [
            "products_Update/products/product/id",
            "products_Update/products/product/variations/variation/id",
            f"{size}/id",
            f"{size}/warehouseitems/warehouse/id",
            f"{size}/warehouseitems/warehouse/qty",
        ]
        assert captured.headers["SOAPAction"] == f'"{namespace}Products_Update"'


class TestConsistency:
    def test_same_structures_everywhere(self) -> None:
        """The legacy files differ from soap/api only in namespace, address and comments."""
        schemas = {name: load_schema(wsdl_dir() / name) for name in FILES}
        main = {name: shape(node) for name, node in schemas[MAIN_WSDL].elements.items()}
        for name, schema in schemas.items():
            assert schema.namespace == FILES[name][0]
            assert {n: shape(node) for n, node in schema.elements.items()} == main, name

    def test_legacy_text_is_the_main_text_renamed(self) -> None:
        """Apart from comments, namespace and address, the files are identical."""

        def normalised(name: str) -> bytes:
            parser = etree.XMLParser(remove_comments=True)
            text = (wsdl_dir() / name).read_bytes()
            text = text.replace(FILES[name][0].encode(), b"NS").replace(
                FILES[name][1].encode(), b"PATH"
            )
            return etree.tostring(etree.fromstring(text, parser))

        for name in FILES:
            assert normalised(name) == normalised(MAIN_WSDL), name

    def test_navision_api_explains_its_login(self) -> None:
        """The unknown credential transport of navision/api is said in the file itself."""
        root = etree.parse(str(wsdl_dir() / "navision-api.wsdl")).getroot()
        comments = " ".join(
            c.text for c in root.itersiblings(preceding=True) if isinstance(c, etree._Comment)
        )
        assert "login" in comments
        assert "Basic" in comments

    def test_documented_wrappers_are_lists(self) -> None:
        """Every list wrapper centra-soap.md names is one in the schema (item repeats)."""
        found = wrappers(load_schema(wsdl_dir() / MAIN_WSDL))
        assert found >= DOCUMENTED_WRAPPERS
        assert ("payments", "payment") not in found  # a mixed container stays a dict

    def test_event_data_children(self) -> None:
        """<data> may hold every documented kind, plus product."""
        data = load_schema(wsdl_dir() / MAIN_WSDL).element("events_Get").child("events/event/data")
        assert list(data.children) == [
            "account",
            "customer",
            "invoice",
            "market",
            "order",
            "pricelist",
            "salesrep",
            "size",
            "warehouse",
            "stock",
            "product",
        ]
        assert data.children["stock"].node.open


ORDER = f"""<order xmlns="{CENTRA_NS}"><id>30</id><type>retail</type><store>1</store>
<internal>false</internal><salesrep/><mastersalesrep><salesrep><id>R1</id><mastersalesrep>
<salesrep><id>R0</id><percent>5</percent></salesrep></mastersalesrep></salesrep></mastersalesrep>
<additionals><additional><key>k</key><value>v</value></additional></additionals>
<primary_warehouse><warehouse><id>W1</id></warehouse></primary_warehouse>
<payments><name>adyen</name><payment><type>auth</type></payment></payments>
<products><product><id>LS100</id><variation><id>V</id></variation><sizes><size><id>M</id>
<orderitem><id>3001</id></orderitem><warehouseitems/></size></sizes>
<bundleinfo><isbundle>false</isbundle><partof><product><id>B1</id></product></partof></bundleinfo>
</product></products><cancelled/>
<shipments><shipment><id>30-1</id><shipped>yes</shipped><carrierinformation><carrier>DHL</carrier>
<packages>1</packages></carrierinformation><refunds><refund><id>R-1</id><products><product>
<id>LS100</id></product></products></refund></refunds></shipment></shipments>
<shippingaddress><city>Hamburg</city></shippingaddress><other>Ä &amp; Ö</other></order>"""


def test_order_payload_round_trips_through_zeep() -> None:
    """XML → payload → zeep → XML → payload gives the same payload: one representation."""
    schema = load_schema(wsdl_dir() / MAIN_WSDL)
    node = schema.element("orders_Update").child("orders/order")
    payload = element_value(etree.fromstring(ORDER.encode()), node)
    client = offline_client(MAIN_WSDL)
    service = client.create_service(f"{{{CENTRA_NS}}}CentraBinding", "http://127.0.0.1:9/x")
    orders = schema.element("orders_Update").children["orders"].node
    message = client.create_message(
        service, "orders_Update", orders=to_zeep([payload], orders, "orders")
    )
    (sent,) = body_of(message).find(f"{{{CENTRA_NS}}}orders")
    assert element_value(sent, node) == payload
    assert payload["mastersalesrep"][0]["mastersalesrep"] == [{"id": "R0", "percent": "5"}]

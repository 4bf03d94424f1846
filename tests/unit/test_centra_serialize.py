"""The request envelopes built by bridge.centra.soap.serialize, against zeep's as the reference."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import zeep
from lxml import etree
from zeep.wsdl.utils import etree_to_string

from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, SILKVMS_NS, wsdl_dir
from bridge.centra.soap.payload import element_value, to_zeep
from bridge.centra.soap.schema import Node, Schema, load_schema
from bridge.centra.soap.serialize import request_envelope
from bridge.simulator import Generator
from bridge.simulator.soap import build

LOGIN = {"username": "bridge", "password": "s3cret&<>"}
#: The event kinds the simulator emits, by the wrapper of their ``*_Update``.
WRAPPER_OF_KIND = {
    "account": "accounts",
    "customer": "customers",
    "invoice": "invoices",
    "market": "markets",
    "order": "orders",
    "pricelist": "pricelists",
    "salesrep": "salesreps",
    "size": "sizes",
    "warehouse": "warehouses",
}
WSDLS = {MAIN_WSDL: CENTRA_NS, "navision-soap.wsdl": SILKVMS_NS, "navision-api.wsdl": SILKVMS_NS}


class Reference:
    """zeep over one WSDL, offline: the serialiser the envelopes must match."""

    def __init__(self, wsdl: str) -> None:
        self.schema = load_schema(wsdl_dir() / wsdl)
        self.client = zeep.Client(
            str(wsdl_dir() / wsdl), settings=zeep.Settings(strict=True, forbid_external=True)
        )
        self.service = self.client.create_service(
            f"{{{self.schema.namespace}}}CentraBinding", "http://127.0.0.1:9/x"
        )

    def envelope(self, wrapper: str, items: list[Any], *, login: bool = True) -> bytes:
        operation = f"{wrapper}_Update"
        node = self.schema.element(operation).children[wrapper].node
        arguments = {"login": LOGIN} if login else {}
        arguments[wrapper] = to_zeep(items, node, wrapper)
        message = self.client.create_message(self.service, operation, **arguments)
        return bytes(etree_to_string(message))

    def ours(self, wrapper: str, items: list[Any], *, login: bool = True) -> bytes:
        arguments = {"login": LOGIN} if login else {}
        return request_envelope(self.schema, f"{wrapper}_Update", {**arguments, wrapper: items})

    def assert_same(self, wrapper: str, items: list[Any], *, login: bool = True) -> None:
        """Both serialisers give the same bytes, or refuse with the same message."""
        try:
            expected = self.envelope(wrapper, items, login=login)
        except ValueError as exc:
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                self.ours(wrapper, items, login=login)
            return
        got = self.ours(wrapper, items, login=login)
        assert got == expected
        assert canonical(got) == canonical(expected)


def canonical(message: bytes) -> bytes:
    return etree.tostring(etree.fromstring(message), method="c14n")


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(MAIN_WSDL)


def full_value(node: Node, depth: int = 0) -> Any:
    """A value for ``node`` with every declared child filled (recursion cut at depth 4)."""
    if node.simple is not None or node.open:
        return {"boolean": True, "int": 7}.get(node.simple or "", f"{node.name}-<&>-ü")
    if node.item is not None:
        return [full_value(node.item.node, depth + 1) for _ in range(2)]
    if depth > 4:
        return {}
    # Reversed, so every object is written in the opposite order of the WSDL sequence.
    return {
        name: full_value(field.node, depth + 1) for name, field in reversed(node.children.items())
    }


def simulated_payloads(count: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Payloads read from the simulator's events, as the bridge reads them, with their wrapper."""
    schema = load_schema(wsdl_dir() / MAIN_WSDL)
    data = schema.element("events_Get").child("events/event/data")
    for generated in Generator(seed=7).generate(count):
        if generated.type in WRAPPER_OF_KIND and generated.payload:
            element = build(None, generated.type, generated.payload, CENTRA_NS)
            payload = element_value(element, data.children[generated.type].node)
            yield WRAPPER_OF_KIND[generated.type], payload


PRODUCTS: list[dict[str, Any]] = [
    {
        "id": "P1",
        "status": "active",
        "variations": [
            {
                "id": "P1-S",
                "description": "Sand",
                "sku": "P1SND",
                "sizes": [
                    {"id": size, "sku": f"P1SND{size}", "ean": f"7300000{index}"}
                    for index, size in enumerate("SML")
                ],
            }
        ],
    },
    {
        "variations": [{"sizes": [{"ean": "1", "id": "S"}], "id": "V"}],
        "status": "inactive",
        "id": "P2",
        "brand": {"id": "B1"},
        "folder": {"id": "F"},
        "media": "",
        "weight": "",
        "comment": None,
    },
    {"id": "P3", "variations": {"id": "V-alone"}, "collection": {"id": "AW24"}},
    {"id": "P4", "variations": [], "description": "Ärmel & <Kragen>", "sku": Decimal("1E+2")},
]


class TestSameAsZeep:
    def test_products_as_erps_send_them(self, reference: Reference) -> None:
        """Nested variations and sizes, any key order, "" and None give zeep's bytes."""
        reference.assert_same("products", PRODUCTS)

    @pytest.mark.parametrize("wrapper", [*sorted(WRAPPER_OF_KIND.values()), "products"])
    def test_every_declared_element_in_reverse_order(
        self, reference: Reference, wrapper: str
    ) -> None:
        """A payload filling every element of the type, written backwards, lands in WSDL order."""
        node = reference.schema.element(f"{wrapper}_Update").children[wrapper].node
        reference.assert_same(wrapper, full_value(node))

    def test_simulated_objects(self, reference: Reference) -> None:
        """Orders, customers and master data as read from events give zeep's bytes (or error)."""
        payloads = list(simulated_payloads(150))
        assert {wrapper for wrapper, _ in payloads} >= {"orders", "customers", "warehouses"}
        for wrapper, payload in payloads:
            reference.assert_same(wrapper, [payload])

    @pytest.mark.parametrize(
        "order",
        [
            {"id": "1", "internal": True, "store": 3},
            {"id": "2", "internal": "false", "store": Decimal("12.50")},
            {"id": "3", "internal": "0", "store": False},
            {"id": "4", "internal": "False", "store": "abc"},
            {"id": "5", "internal": 0, "store": 1.5},
            {"id": "6", "internal": "", "salesrep": "", "cancelled": []},
        ],
    )
    def test_booleans_and_numbers_as_zeep_writes_them(
        self, reference: Reference, order: dict[str, Any]
    ) -> None:
        """xsd:boolean and xsd:int text follows zeep's rules, quirks included."""
        reference.assert_same("orders", [order])

    def test_without_login(self, reference: Reference) -> None:
        """navision-api with Basic auth sends no <login>; nothing else changes."""
        reference.assert_same("customers", [{"id": "1", "email": "a@b.se"}], login=False)

    @pytest.mark.parametrize("wsdl", sorted(WSDLS))
    def test_every_flavor_namespace(self, wsdl: str) -> None:
        """Each endpoint's WSDL gives its own namespace, exactly as zeep writes it."""
        legacy = Reference(wsdl)
        legacy.assert_same("products", PRODUCTS[:2])
        assert f'xmlns:ns0="{WSDLS[wsdl]}"'.encode() in legacy.ours("products", PRODUCTS[:1])

    @pytest.mark.parametrize(
        ("items", "message"),
        [
            (
                [{"id": "P", "variations": [{"id": "V"}, {"colour": "red"}]}],
                "unknown key products[0].variations[1].colour: Variation has no element 'colour'",
            ),
            (
                [{"variations": [{"sizes": [{"bin": "7"}]}]}],
                "unknown key products[0].variations[0].sizes[0].bin:",
            ),
            ([{"brand": [{"id": "x"}]}], "products[0].brand: Ref is not a list, got a list"),
            ([{"sku": {"id": "x"}}], "products[0].sku: expected a single string value, got dict"),
            (["P1"], "products[0]: expected an object for Product, got str"),
            (
                [{"id": "P", "variations": [None]}],
                "products[0].variations[0]: expected an object for Variation, got NoneType",
            ),
        ],
    )
    def test_refusals_name_the_path(
        self, reference: Reference, items: list[Any], message: str
    ) -> None:
        """A payload the WSDL cannot carry is refused with to_zeep's message, before sending."""
        reference.assert_same("products", items)
        with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
            reference.ours("products", items)


class TestEnvelope:
    def test_login_first_and_partial_fields(self, reference: Reference) -> None:
        """login comes first whatever the dict order; a missing key never becomes an element."""
        schema: Schema = reference.schema
        message = request_envelope(
            schema,
            "customers_Update",
            {"customers": [{"lastname": "Lind", "id": "1", "firstname": None}], "login": LOGIN},
        )
        request = etree.fromstring(message)[0][0]
        assert request.tag == f"{{{CENTRA_NS}}}customers_Update"
        assert [etree.QName(child).localname for child in request] == ["login", "customers"]
        (customer,) = request[1]
        assert [(etree.QName(c).localname, c.text) for c in customer] == [
            ("id", "1"),
            ("lastname", "Lind"),
        ]
        assert message.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n")

    def test_repeated_children_keep_their_order_when_sorted(self, reference: Reference) -> None:
        """Sorting into WSDL order is stable: the items of one repeating child stay in order."""
        payments = {"payment": [{"type": "auth"}, {"type": "capture"}], "name": "adyen"}
        reference.assert_same("orders", [{"payments": payments, "id": "9"}])

"""Centra's SOAP 1.1 wire format for the simulator: safe parsing, captured-style replies."""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CENTRA_NS = "http://www.centra.com/webservices/"
SILK_NS = "http://www.silkvms.com/webservices/"
SERVICE_NAMESPACES = (CENTRA_NS, SILK_NS)

#: Centra writes the prolog with double quotes; lxml's own declaration uses single quotes.
XML_PROLOG = b'<?xml version="1.0" encoding="UTF-8"?>\n'

#: Containers whose children are repeated items (centra-soap.md §4, §5): such children become a
#: list in a payload dict even when only one is present, so merging by ``id`` stays uniform.
WRAPPERS = frozenset(
    {
        "accounts",
        "additionals",
        "addresses",
        "buyers",
        "cancelled",
        "categories",
        "categoriesremove",
        "customers",
        "deliverywindows",
        "displays",
        "errors",
        "events",
        "invoices",
        "items",
        "markets",
        "marketsremove",
        "media",
        "metadata",
        "notices",
        "orders",
        "pricelists",
        "products",
        "refunds",
        "salesreps",
        "shipments",
        "sizes",
        "supplierorderitems",
        "variations",
        "variationsremove",
        "warehouseitems",
        "warehouses",
    }
)

#: A payload as plain data: dicts in element order, lists for repeated elements, text as str.
Payload = dict[str, Any]


class SoapClientError(Exception):
    """The request cannot be served as sent; it is answered with a ``SOAP-ENV:Client`` Fault."""


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """The operation element of a parsed request envelope."""

    operation: str
    element: etree._Element


def safe_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads a DTD or touches the network (deps §2)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def parse_request(body: bytes, namespace: str) -> SoapRequest:
    """Parse an envelope and return its operation element, checked against ``namespace``.

    Elements are matched by namespace and local name, never by prefix, so the cookbook's
    default-namespace style and the ``ns1:`` style are the same request.
    """
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise SoapClientError(f"Malformed request XML: {exc}") from exc
    # lxml-stubs do not declare DocInfo.doctype, which lxml has had since 2.2.
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise SoapClientError("DTDs are not allowed in SOAP messages")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapClientError("Request is not a SOAP 1.1 Envelope")
    body_el = root.find(f"{{{SOAP_ENV}}}Body")
    operation = first_child(body_el) if body_el is not None else None
    if operation is None:
        raise SoapClientError("SOAP Body is missing or empty")
    qname = etree.QName(operation)
    if qname.namespace != namespace:
        raise SoapClientError(f"Unknown operation: {{{qname.namespace or ''}}}{qname.localname}")
    for element in operation.iter(tag=etree.Element):
        if etree.QName(element).namespace != namespace:
            local = etree.QName(element).localname
            raise SoapClientError(f"Element <{local}> is not in namespace {namespace}")
    return SoapRequest(operation=qname.localname, element=operation)


def first_child(element: etree._Element) -> etree._Element | None:
    """The first element child, skipping comments and processing instructions."""
    return next(element.iterchildren(tag=etree.Element), None)


def local(element: etree._Element) -> str:
    """The element's local name."""
    return etree.QName(element).localname


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Element children with local name ``name``, in any namespace."""
    return [child for child in element.iterchildren(tag=etree.Element) if local(child) == name]


def child(element: etree._Element, *path: str) -> etree._Element | None:
    """The first element reached by following local names, or None."""
    current: etree._Element | None = element
    for name in path:
        if current is None:
            return None
        found = children(current, name)
        current = found[0] if found else None
    return current


def child_text(element: etree._Element, *path: str) -> str | None:
    """Text of the element at ``path`` ("" when empty), or None when the element is absent."""
    found = child(element, *path)
    return None if found is None else (found.text or "")


def to_data(element: etree._Element) -> Payload | str:
    """Turn an element into a payload dict (or its text, for a leaf), by local names."""
    kids = list(element.iterchildren(tag=etree.Element))
    if not kids:
        return element.text or ""
    data: Payload = {}
    is_wrapper = local(element) in WRAPPERS
    for kid in kids:
        name, value = local(kid), to_data(kid)
        if is_wrapper:
            data.setdefault(name, []).append(value)
        elif name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    return data


def build(
    parent: etree._Element | None, name: str, value: Any, namespace: str | None = None
) -> etree._Element:
    """Append ``value`` under ``parent`` as element ``name`` (a list becomes repeated elements).

    Returns the last element built; with ``parent=None`` a new root is returned.
    """
    tag = f"{{{namespace}}}{name}" if namespace else name
    if isinstance(value, list):
        if parent is None:
            raise ValueError(f"a list needs a parent element: {name}")
        built = [build(parent, name, item, namespace) for item in value]
        return built[-1] if built else parent
    element = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            build(element, key, item, namespace)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


#: Whether any element of a tree is outside the namespace ``$ns``.
_OUTSIDE_NAMESPACE = etree.XPath("boolean(descendant-or-self::*[namespace-uri() != $ns])")


def requalify(source: etree._Element, parent: etree._Element, namespace: str) -> None:
    """Copy ``source`` under ``parent``, moving unqualified and service-namespace elements to
    ``namespace`` so one stored payload serves every endpoint with the ``ns1:`` prefix."""
    if not _OUTSIDE_NAMESPACE(source, ns=namespace):
        # Already wholly in ``namespace`` (generated payloads): one C-level copy will do.
        parent.append(deepcopy(source))
        return
    qname = etree.QName(source)
    keep = qname.namespace not in (None, *SERVICE_NAMESPACES)
    tag = source.tag if keep else f"{{{namespace}}}{qname.localname}"
    copy = etree.SubElement(parent, tag, attrib={str(k): str(v) for k, v in source.attrib.items()})
    copy.text = source.text
    for kid in source.iterchildren(tag=etree.Element):
        requalify(kid, copy, namespace)


#: How ``event_xml`` finds the children of an event in the bytes of the whole event.
_EVENT_OPEN = f'<ns1:event xmlns:ns1="{CENTRA_NS}">'.encode()
_EVENT_CLOSE = b"</ns1:event>"


def event_xml(fields: Iterable[tuple[str, str]], payload: etree._Element | None) -> bytes:
    """The children of an ``ns1:event`` after its id, as events_Get sends them: the ``fields``
    (type, entry, mission, date) and ``ns1:data`` with ``payload`` requalified in it.

    Every element is written with the prefix ``ns1`` and none declares it, so the same bytes
    serve every endpoint: the answer's envelope binds ``ns1`` to the endpoint's namespace.
    """
    event = etree.Element(f"{{{CENTRA_NS}}}event", nsmap={"ns1": CENTRA_NS})
    for name, text in fields:
        etree.SubElement(event, f"{{{CENTRA_NS}}}{name}").text = text
    data = etree.SubElement(event, f"{{{CENTRA_NS}}}data")
    if payload is not None:
        requalify(payload, data, CENTRA_NS)
    return serialize_element(event)[len(_EVENT_OPEN) : -len(_EVENT_CLOSE)]


def envelope(namespace: str) -> tuple[etree._Element, etree._Element]:
    """An empty response envelope with Centra's prefixes, and its Body."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV, "ns1": namespace})
    return root, etree.SubElement(root, f"{{{SOAP_ENV}}}Body")


def serialize(root: etree._Element) -> bytes:
    """Bytes as Centra sends them: double-quoted prolog, UTF-8."""
    return XML_PROLOG + serialize_element(root)


def serialize_element(element: etree._Element) -> bytes:
    """An element as UTF-8 bytes, without a prolog."""
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False)


def result_reply(
    namespace: str, success: bool, errors: Iterable[str] = (), notices: Iterable[str] = ()
) -> bytes:
    """The shared ``ns1:result`` answer of every update and of events_Done (§6.1)."""
    root, body = envelope(namespace)
    result = build(body, "result", {"success": success}, namespace)
    build(result, "errors", {"message": list(errors)}, namespace)
    build(result, "notices", {"message": list(notices)}, namespace)
    return serialize(root)


#: How events_Done may be answered; no capture shows it (centra-soap.md §3, U3): the assumed
#: ``result``, the generated reference's unqualified ``<eventsDoneResponse>OK``, or an empty
#: ``<ns1:events_DoneResponse/>``.
EVENTS_DONE_ANSWERS = ("result", "eventsDoneResponse", "empty")


def events_done_reply(namespace: str, answer: str) -> bytes:
    """events_Done's answer in one of the ``EVENTS_DONE_ANSWERS`` shapes."""
    if answer == "result":
        return result_reply(namespace, True)
    root, body = envelope(namespace)
    if answer == "eventsDoneResponse":
        etree.SubElement(body, "eventsDoneResponse").text = "OK"
    else:
        etree.SubElement(body, f"{{{namespace}}}events_DoneResponse")
    return serialize(root)


def fault_reply(code: str, message: str) -> bytes:
    """A SOAP 1.1 Fault; ``faultcode``/``faultstring`` are unqualified, as SOAP 1.1 demands."""
    root = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(root, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    return serialize(root)

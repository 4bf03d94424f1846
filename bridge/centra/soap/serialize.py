"""Payload dicts → the SOAP request envelope, built with lxml from the WSDL-derived schema.

zeep writes the same bytes, but through its value objects, at about ten times the cost of
building the XML with lxml alone; an outbox push of thousands of records is mostly that. The
rules are those of ``payload.to_zeep`` followed by zeep's serialiser:

* children are written in the order of the WSDL sequence, whatever the order of the dict;
* a missing key (or None) stays missing, never an empty element; "" or {} is an empty element;
* a list for a list wrapper becomes one item element each; a repeating child, one element per
  value (a single value counts as a list of one);
* a key the WSDL does not declare, or a value of the wrong kind, is a ValueError naming its path
  (``products[0].variations[1].colour``), raised before anything is sent;
* text is written as zeep writes it: ``str()``, xsd:boolean as "true"/"false", a Decimal in a
  numeric type without exponent.

The tests compare the result with zeep's ``create_message`` for realistic payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from bridge.centra.soap.payload import SCALARS, kind_of, simple_problem
from bridge.centra.soap.schema import Field, Node, Schema

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAP_ENV_NS}}}Envelope"
_BODY = f"{{{SOAP_ENV_NS}}}Body"
#: The prefixes zeep declares; prefixes carry no meaning, but equal bytes are easy to check.
_ENVELOPE_NSMAP = {"soap-env": SOAP_ENV_NS}
_BODY_PREFIX = "ns0"
#: bool is an int, so it passes too; the same kinds ``payload.to_zeep`` accepts.


def request_envelope(schema: Schema, operation: str, arguments: Mapping[str, Any]) -> bytes:
    """The UTF-8 envelope of ``operation`` carrying ``arguments`` (its children by name).

    Raises ValueError naming the key path when ``arguments`` do not fit the WSDL.
    """
    envelope = etree.Element(_ENVELOPE, nsmap=_ENVELOPE_NSMAP)
    request = etree.SubElement(
        etree.SubElement(envelope, _BODY),
        f"{{{schema.namespace}}}{operation}",
        nsmap={_BODY_PREFIX: schema.namespace},
    )
    try:
        _fill_object(request, arguments, schema.element(operation))
    except _Misfit as exc:
        raise ValueError(exc.message()) from None
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


class _Misfit(Exception):
    """A value the schema cannot carry. Each level adds its step to the path on the way out,
    so the path is only spelled out when something is wrong."""

    def __init__(self, problem: str, *, unknown_key: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.unknown = unknown_key is not None
        self.steps = [] if unknown_key is None else [f".{unknown_key}"]

    def message(self) -> str:
        path = "".join(reversed(self.steps)).removeprefix(".")
        return f"unknown key {path}: {self.problem}" if self.unknown else f"{path}: {self.problem}"


def _fill(element: etree._Element, value: Any, node: Node) -> None:
    """Write ``value`` into ``element`` as ``node`` describes it."""
    if node.simple is not None or node.open:
        if not isinstance(value, SCALARS):
            raise _Misfit(
                f"expected a single {node.simple or node.name} value, got {kind_of(value)}"
            )
        problem = simple_problem(value, node.simple) if node.simple else ""
        if problem:
            raise _Misfit(problem)
        element.text = _TEXT.get(node.simple or "", str)(value)
    elif isinstance(value, list):
        if node.item is None:
            raise _Misfit(f"{node.name} is not a list, got a list")
        _fill_items(element, value, node.item)
    elif isinstance(value, (dict, Mapping)):  # dict first: spares the ABC check
        _fill_object(element, value, node)
    elif value != "":
        raise _Misfit(f"expected an object for {node.name}, got {kind_of(value)}")


def _fill_object(element: etree._Element, value: Mapping[str, Any], node: Node) -> None:
    """One child per key, checked in the dict's order, then put in the WSDL's order."""
    position = node.position
    last = -1
    in_order = True
    for key, sub in value.items():
        declared = node.children.get(key)
        if declared is None:
            valid = ", ".join(sorted(node.children))
            raise _Misfit(f"{node.name} has no element {key!r}; valid: {valid}", unknown_key=key)
        if sub is None:
            continue
        try:
            if declared.repeated:
                _fill_items(element, sub if isinstance(sub, list) else [sub], declared)
            elif sub.__class__ is str and declared.node.simple == "string":
                # Most fields of a record: text written as given, without a call.
                etree.SubElement(element, declared.tag).text = sub
            else:
                _fill(etree.SubElement(element, declared.tag), sub, declared.node)
        except _Misfit as exc:
            exc.steps.append(f".{key}")
            raise
        place = position[declared.tag]
        if place > last:
            last = place
        else:
            in_order = False
    if not in_order:
        # A stable sort: the elements of one repeating child keep their order.
        element[:] = sorted(element, key=lambda child: position[child.tag])


def _fill_items(element: etree._Element, values: list[Any], item: Field) -> None:
    tag, node = item.tag, item.node
    for index, value in enumerate(values):
        try:
            _fill(etree.SubElement(element, tag), value, node)
        except _Misfit as exc:
            exc.steps.append(f"[{index}]")
            raise


def _boolean(value: Any) -> str:
    # zeep's rule, kept as it is: anything truthy but "false" and "0" is true.
    return "true" if value and value not in ("false", "0") else "false"


def _number(value: Any) -> str:
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


#: How zeep writes a value of each xsd type (``str()`` for any other, xsd:string included).
_TEXT: dict[str, Callable[[Any], str]] = {
    "boolean": _boolean,
    "float": lambda value: str(value).upper(),
    **dict.fromkeys(
        (
            "decimal",
            "integer",
            "int",
            "long",
            "short",
            "byte",
            "nonNegativeInteger",
            "positiveInteger",
            "nonPositiveInteger",
            "negativeInteger",
            "unsignedLong",
            "unsignedInt",
            "unsignedShort",
            "unsignedByte",
        ),
        _number,
    ),
}

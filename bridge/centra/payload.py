"""The one payload representation, in both directions: XML element ⇄ dicts, lists and strings.

* An element with children becomes a dict keyed by local name; a text-only element its text
  (an empty one ""). Attributes and comments carry nothing in Centra's messages and are skipped.
* A list wrapper (its type declares exactly one child, repeating: ``products/product``,
  ``errors/message``…) becomes a list directly under the wrapper's name, also with one item;
  an empty wrapper is ``[]``.
* A repeating child of a mixed container (``payments/payment``) is always a list under its own
  name; an undeclared child that repeats becomes a list too.
* Nothing is dropped: an undeclared element is kept wherever it appears, and a wrapper holding
  anything besides its items stays a dict.

The shape comes from the WSDL (``schema.Node``), so ``product/variation`` is a list in a
pricelist and a single reference in an order line, as Centra sends them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from bridge.centra.records import Payload
from bridge.centra.schema import Node

#: bool is an int, so it passes too (zeep writes "true"/"false" for xsd:boolean).
_SCALARS = (str, int, float, Decimal)


def local_name(tag: str) -> str:
    """``{ns}name`` → ``name``; prefixes never reach this far (lxml resolves them)."""
    return tag.rpartition("}")[2]


def element_value(el: etree._Element, node: Node | None) -> Any:
    """The payload value of ``el``, read as ``node`` describes it (None: undeclared)."""
    children = [child for child in el if isinstance(child.tag, str)]
    item = node.item if node is not None else None
    if not children:
        text = el.text or ""
        return [] if item is not None and not text.strip() else text
    names = [local_name(child.tag) for child in children]
    if item is not None and all(name == item.name for name in names):
        return [element_value(child, item.node) for child in children]
    return _as_dict(children, names, node)


def _as_dict(children: list[etree._Element], names: list[str], node: Node | None) -> Payload:
    declared = node.children if node is not None else {}
    seen: set[str] = set()
    repeated: set[str] = set()
    for name in names:
        (repeated if name in seen else seen).add(name)
    out: Payload = {}
    for child, name in zip(children, names, strict=True):
        declared_field = declared.get(name)
        value = element_value(child, declared_field.node if declared_field else None)
        if name in repeated or (declared_field is not None and declared_field.repeated):
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def to_zeep(value: Any, node: Node, path: str) -> Any:
    """Turn a payload value into the nested dicts zeep serialises for ``node``.

    Only keys given are sent: a missing key (or None) stays missing, it never becomes an empty
    element. Raises ValueError naming the key path (``products[0].variations[1].colour``) for a
    key the WSDL does not declare or a value of the wrong kind.
    """
    if node.open:
        return value
    if node.simple is not None:
        if isinstance(value, _SCALARS):
            return value
        raise ValueError(f"{path}: expected a single {node.simple} value, got {_kind(value)}")
    if isinstance(value, list):
        item = node.item
        if item is None:
            raise ValueError(f"{path}: {node.name} is not a list, got a list")
        return {item.name: _items(value, item.node, path)}
    if value == "":
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected an object for {node.name}, got {_kind(value)}")
    out: dict[str, Any] = {}
    for key, sub in value.items():
        declared = node.children.get(key)
        if declared is None:
            raise ValueError(f"unknown key {path}.{key}: {node.name} has no element {key!r}")
        if sub is None:
            continue
        if declared.repeated:
            out[key] = _items(sub if isinstance(sub, list) else [sub], declared.node,
                              f"{path}.{key}")
        else:
            out[key] = to_zeep(sub, declared.node, f"{path}.{key}")
    return out


def _items(values: list[Any], node: Node, path: str) -> list[Any]:
    return [to_zeep(value, node, f"{path}[{index}]") for index, value in enumerate(values)]


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__

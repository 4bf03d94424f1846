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

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from lxml import etree

from bridge.centra.port import Payload
from bridge.centra.soap.schema import Field, Node

#: bool is an int, so it passes too (zeep writes "true"/"false" for xsd:boolean).
#: Python values that stand for one xsd simple value.
SCALARS = (str, int, float, Decimal)
_WHOLE = re.compile(r"-?\d+")
#: Characters no XML 1.0 document may contain (control characters, lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def local_name(tag: str) -> str:
    """``{ns}name`` → ``name``; prefixes never reach this far (lxml resolves them)."""
    return tag.rpartition("}")[2]


def element_value(el: etree._Element, node: Node | None) -> Any:
    """The payload value of ``el``, read as ``node`` describes it (None: undeclared).

    Children are looked up by their tag in ``node.by_tag`` and text-only children are read
    inline: a page holds some hundred elements per event, so every call saved counts.
    """
    if len(el):
        value = _container(el, node)
        if value is not None:
            return value
    text = el.text or ""
    if node is not None and node.item is not None and not text.strip():
        return []
    return text


def _container(el: etree._Element, node: Node | None) -> Payload | list[Any] | None:
    """``el``'s children as a list (a list wrapper) or a dict; None if it has none."""
    if node is not None and node.item is not None:
        values = _items_of(el, node.item)
        if values is not _MIXED:
            return values
    return _as_dict(el, node)


#: Marks a list wrapper whose children are not all its items: it is read as a dict instead.
_MIXED: Any = object()


def _items_of(el: etree._Element, item: Field) -> list[Any] | None:
    """The values of ``el``'s children if all are ``item``; _MIXED if not; None if none."""
    values: list[Any] = []
    for child in el:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        if tag != item.tag and local_name(tag) != item.name:
            return cast("list[Any]", _MIXED)
        values.append(element_value(child, item.node))
    return values or None


def _as_dict(el: etree._Element, node: Node | None) -> Payload | None:
    """Declared repeating children and names sent twice become lists; the rest values.

    The hot loop of reading a page: text-only children are read inline, without a call.
    """
    by_tag = node.by_tag if node is not None else _NO_FIELDS
    out: Payload = {}
    doubled: set[str] | None = None
    for child in el:
        tag = child.tag
        declared = by_tag.get(tag)
        if declared is None:
            if tag.__class__ is not str:  # comments and processing instructions
                continue
            declared = _other_namespace(node, tag)
        if declared is None:
            name, repeated = local_name(tag), False
            value = element_value(child, None) if len(child) else child.text or ""
        else:
            name, repeated, sub = declared.name, declared.repeated, declared.node
            if len(child):
                value = element_value(child, sub)
            else:
                value = child.text or ""
                if sub.item is not None and not value.strip():
                    value = []
        if repeated:
            if name in out:
                out[name].append(value)
            else:
                out[name] = [value]
        elif name not in out:
            out[name] = value
        elif doubled is not None and name in doubled:
            out[name].append(value)
        else:
            out[name] = [out[name], value]
            doubled = (doubled or set()) | {name}
    return out or None


_NO_FIELDS: dict[str, Field] = {}


def _other_namespace(node: Node | None, tag: str) -> Field | None:
    """A declared child sent in another namespace: matched by local name, as before."""
    return node.children.get(local_name(tag)) if node is not None and tag[0] == "{" else None


def to_zeep(value: Any, node: Node, path: str) -> Any:
    """Turn a payload value into the nested dicts zeep serialises for ``node``.

    Only keys given are sent: a missing key (or None) stays missing, it never becomes an empty
    element. Raises ValueError naming the key path (``products[0].variations[1].colour``) for a
    key the WSDL does not declare or a value of the wrong kind.
    """
    if node.open:
        return value
    if node.simple is not None:
        if not isinstance(value, SCALARS):
            raise ValueError(f"{path}: expected a single {node.simple} value, got {kind_of(value)}")
        problem = simple_problem(value, node.simple)
        if problem:
            raise ValueError(f"{path}: {problem}")
        return value
    if isinstance(value, list):
        item = node.item
        if item is None:
            raise ValueError(f"{path}: {node.name} is not a list, got a list")
        return {item.name: _items(value, item.node, path)}
    if value == "":
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected an object for {node.name}, got {kind_of(value)}")
    out: dict[str, Any] = {}
    for key, sub in value.items():
        declared = node.children.get(key)
        if declared is None:
            valid = ", ".join(sorted(node.children))
            raise ValueError(
                f"unknown key {path}.{key}: {node.name} has no element {key!r}; valid: {valid}"
            )
        if sub is None:
            continue
        if declared.repeated:
            out[key] = _items(
                sub if isinstance(sub, list) else [sub], declared.node, f"{path}.{key}"
            )
        else:
            out[key] = to_zeep(sub, declared.node, f"{path}.{key}")
    return out


def _items(values: list[Any], node: Node, path: str) -> list[Any]:
    return [to_zeep(value, node, f"{path}[{index}]") for index, value in enumerate(values)]


def simple_problem(value: Any, simple: str) -> str:
    """Why ``value`` cannot stand for an xsd ``simple`` value ("" when it can).

    JSON's true/false only fit booleans: ``"firstname": true`` is a mistake, not "true".
    """
    if simple == "boolean":
        ok = isinstance(value, bool) or value in ("true", "false", "1", "0", 1, 0)
        return "" if ok else f"expected true or false, got {value!r}"
    if isinstance(value, bool):
        return f"expected {'a whole number' if simple == 'int' else 'text'}, got true/false"
    if isinstance(value, str) and (bad := _NOT_XML.search(value)):
        return f"contains U+{ord(bad.group()):04X}, which XML cannot carry"
    if simple == "int" and not (isinstance(value, int) or _WHOLE.fullmatch(str(value))):
        return f"expected a whole number, got {value!r}"
    return ""


def kind_of(value: Any) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__

"""The shape of Centra's messages as read from our WSDL, for parsing and building payloads.

zeep knows the same shape, but its objects are slow to build and drop what they do not know.
This small model only answers what the payload code asks: which children an element may have,
which of them repeat, and which elements are plain text. Both directions use it, so the WSDL
stays the one description of the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from lxml import etree

XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_XSD = f"{{{XSD_NS}}}"
_PARTICLES = {f"{_XSD}sequence", f"{_XSD}choice", f"{_XSD}all"}


@dataclass(eq=False)
class Node:
    """The type of one element: text (``simple`` names the xsd type), complex, or anything."""

    name: str
    simple: str | None = None
    #: True for xsd:anyType: children are taken as they come.
    open: bool = False
    children: dict[str, Field] = field(default_factory=dict)
    #: Each child by the tags it may arrive with (``{namespace}name`` and bare ``name``), so
    #: reading a child needs no QName work. Filled by ``Schema`` once the tree is complete.
    by_tag: dict[str, Field] = field(default_factory=dict)
    #: Each child's position in the WSDL sequence, by qualified tag (for writing in order).
    position: dict[str, int] = field(default_factory=dict)

    @cached_property
    def item(self) -> Field | None:
        """The repeated child if this is a list wrapper (one child, repeating), else None.

        Cached: read only once the schema is complete, and asked for every element parsed.
        """
        if len(self.children) == 1:
            (only,) = self.children.values()
            if only.repeated:
                return only
        return None

    def child(self, path: str) -> Node:
        """The node reached by a slash-separated path of child names (for tests and lookups)."""
        node = self
        for name in path.split("/"):
            node = node.children[name].node
        return node


@dataclass(eq=False, slots=True)
class Field:
    """A child element as declared: its type and whether it may repeat."""

    name: str
    node: Node
    repeated: bool
    #: ``{namespace}name``, the child's tag on the wire; set by ``Schema``.
    tag: str = ""


class Schema:
    """The global elements of one WSDL's schema, each with its tree of ``Node``s."""

    def __init__(self, root: etree._Element) -> None:
        schemas = root.findall(f"{{{WSDL_NS}}}types/{_XSD}schema")
        if len(schemas) != 1:
            raise ValueError(f"expected one xsd:schema in the WSDL, found {len(schemas)}")
        schema = schemas[0]
        self.namespace: str = schema.get("targetNamespace", "")
        self._type_elements = {el.get("name"): el for el in schema.findall(f"{_XSD}complexType")}
        self._types: dict[str, Node] = {}
        self.elements: dict[str, Node] = {
            el.get("name", ""): self._element_node(el) for el in schema.findall(f"{_XSD}element")
        }
        indexed: set[int] = set()
        for node in self.elements.values():
            self._index(node, indexed)

    def element(self, name: str) -> Node:
        """The node of the global element ``name`` (KeyError if the WSDL has none)."""
        return self.elements[name]

    def _index(self, node: Node, indexed: set[int]) -> None:
        """Fill ``tag``, ``by_tag`` and ``position`` below ``node``, each node once."""
        if id(node) in indexed:
            return
        indexed.add(id(node))
        for position, child in enumerate(node.children.values()):
            child.tag = f"{{{self.namespace}}}{child.name}"
            node.by_tag[child.tag] = node.by_tag[child.name] = child
            node.position[child.tag] = position
            self._index(child.node, indexed)

    def _element_node(self, el: etree._Element) -> Node:
        type_name = el.get("type")
        if type_name is None:
            inline = el.find(f"{_XSD}complexType")
            if inline is None:
                return Node(name=el.get("name", ""), open=True)
            node = Node(name=el.get("name", ""))
            self._fill(node, inline)
            return node
        prefix, _, local = type_name.rpartition(":")
        if el.nsmap.get(prefix or None) == XSD_NS:
            if local == "anyType":
                return Node(name=local, open=True)
            return Node(name=local, simple=local)
        return self._named(local)

    def _named(self, name: str) -> Node:
        # Registered before its children are read, so recursive types (salesrep) terminate.
        if name not in self._types:
            node = self._types[name] = Node(name=name)
            self._fill(node, self._type_elements[name])
        return self._types[name]

    def _fill(self, node: Node, complex_type: etree._Element) -> None:
        for particle in complex_type:
            if particle.tag in _PARTICLES:
                self._fill_particle(node, particle, repeated=False)
            elif particle.tag != f"{_XSD}annotation" and isinstance(particle.tag, str):
                raise ValueError(f"unsupported schema construct {particle.tag} in {node.name}")

    def _fill_particle(self, node: Node, particle: etree._Element, *, repeated: bool) -> None:
        repeated = repeated or particle.get("maxOccurs", "1") != "1"
        for child in particle:
            if child.tag == f"{_XSD}element":
                name = child.get("name", "")
                many = repeated or child.get("maxOccurs", "1") != "1"
                node.children[name] = Field(name, self._element_node(child), many)
            elif child.tag in _PARTICLES:
                self._fill_particle(node, child, repeated=repeated)
            elif child.tag != f"{_XSD}annotation" and isinstance(child.tag, str):
                raise ValueError(f"unsupported schema construct {child.tag} in {node.name}")


@lru_cache(maxsize=8)
def load_schema(path: Path) -> Schema:
    """Read the schema of the WSDL at ``path`` once per process (files ship with the package)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    return Schema(etree.parse(str(path), parser).getroot())

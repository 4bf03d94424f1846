"""Events for tests, written as Centra sends them: ``<event>`` XML built from a payload dict.

Handlers read payloads from the stored XML, so a test event must carry its payload as XML.
The WSDL decides the shape, as when reading: a list under a list wrapper's name becomes one
item element each, a list under a repeating child's name repeats that child.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from bridge.centra.port import Event
from bridge.centra.soap.codec import SoapCodec
from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, wsdl_dir
from bridge.centra.soap.schema import Node, Schema, load_schema
from bridge.config import CentraSettings, Secret


def main_codec() -> SoapCodec:
    """The default (``soap``) flavor's codec, which checks ERP input and reads stored events
    as the bridge does; no connection is made."""
    return SoapCodec(
        CentraSettings(
            endpoint="http://127.0.0.1:9/", username="u", password=Secret("codec-password")
        )
    )


def main_schema() -> Schema:
    """The schema of the default (``soap``) flavor, which the tests' stores are read with."""
    return load_schema(wsdl_dir() / MAIN_WSDL)


def make_event(
    event_id: str,
    kind: str,
    payload: dict[str, Any],
    mission: str = "update",
    *,
    date: str = "2026-11-26 12:00:00",
) -> Event:
    """An event of type ``kind`` whose ``<data>`` holds ``payload`` as ``<kind>``."""
    root = etree.Element(f"{{{CENTRA_NS}}}event", nsmap={"ns1": CENTRA_NS})
    entry = str(payload.get("id", ""))
    for name, text in (
        ("id", event_id),
        ("type", kind),
        ("entry", entry),
        ("mission", mission),
        ("date", date),
    ):
        etree.SubElement(root, f"{{{CENTRA_NS}}}{name}").text = text
    kinds = main_schema().element("events_Get").child("events/event/data").children
    declared = kinds.get(kind)
    _write(
        etree.SubElement(root, f"{{{CENTRA_NS}}}data"),
        kind,
        payload,
        declared.node if declared else None,
    )
    return Event(
        event_id=event_id,
        type=kind,
        entry=entry,
        mission=mission,
        date=date,
        payload_kind=kind,
        xml=etree.tostring(root, encoding="unicode"),
    )


def _write(parent: etree._Element, name: str, value: Any, node: Node | None) -> None:
    tag = f"{{{CENTRA_NS}}}{name}"
    if isinstance(value, list):
        if node is not None and node.item is not None:
            wrapper = etree.SubElement(parent, tag)
            for item in value:
                _write(wrapper, node.item.name, item, node.item.node)
        else:
            for item in value:
                _write(parent, name, item, node)
        return
    element = etree.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, sub in value.items():
            declared = node.children.get(key) if node is not None else None
            _write(element, key, sub, declared.node if declared else None)
    else:
        element.text = str(value)

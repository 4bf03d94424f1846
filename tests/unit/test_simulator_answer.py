"""An events_Get answer joins bytes each event got once, when queued: they must be the bytes
lxml writes for the whole answer, on every endpoint."""

from __future__ import annotations

import pytest
from lxml import etree

from bridge.simulator.app import events_reply
from bridge.simulator.data import Generator
from bridge.simulator.queue import Event, EventQueue
from bridge.simulator.soap import (
    CENTRA_NS,
    SERVICE_NAMESPACES,
    SILK_NS,
    build,
    envelope,
    requalify,
    serialize,
)

#: Payloads a test may queue as raw XML: unqualified, in the other service namespace, with text
#: to escape, with an element in a namespace of its own.
RAW_PAYLOADS = [
    "<order><id>5</id><note>Åsa &amp; &lt;Co&gt; \u20ac</note></order>",
    f'<s:order xmlns:s="{SILK_NS}"><s:id>6</s:id><s:market><s:id>EU</s:id></s:market></s:order>',
    f'<order xmlns="{CENTRA_NS}"><id>7</id><x:gift xmlns:x="urn:gift"><x:paper>gold</x:paper>'
    "</x:gift></order>",
]

Queued = tuple[str, str, str, str, etree._Element | None]


def whole_answer(namespace: str, events: list[tuple[str, Queued]]) -> bytes:
    """The answer as the simulator wrote it before events kept their bytes: one lxml tree."""
    root, body = envelope(namespace)
    wrapper = etree.SubElement(
        etree.SubElement(body, f"{{{namespace}}}events_Get"), f"{{{namespace}}}events"
    )
    for event_id, (type, entry, mission, date, payload) in events:
        element = etree.SubElement(wrapper, f"{{{namespace}}}event")
        for name, text in (
            ("id", event_id),
            ("type", type),
            ("entry", entry),
            ("mission", mission),
            ("date", date),
        ):
            etree.SubElement(element, f"{{{namespace}}}{name}").text = text
        data = etree.SubElement(element, f"{{{namespace}}}data")
        if payload is not None:
            requalify(payload, data, namespace)
    return serialize(root)


@pytest.mark.parametrize("namespace", SERVICE_NAMESPACES)
def test_answer_is_what_lxml_writes_for_the_whole_page(namespace: str) -> None:
    """Generated events, raw payloads and an empty ``<data/>``: byte for byte the same."""
    events: list[Queued] = [
        (e.type, e.entry, e.mission, e.date, build(None, e.type, e.payload, CENTRA_NS))
        for e in Generator(seed=5).generate(90)
    ]
    events += [
        ("order", "r", "update", "2024-09-02 08:00:00", etree.fromstring(raw))
        for raw in RAW_PAYLOADS
    ]
    events.append(("paymentterm", "", "update", "2024-09-02 08:00:00", None))
    queue = EventQueue()
    ids = [
        queue.add(Event.of(type, payload, entry=entry, mission=mission, date=date)).id
        for type, entry, mission, date, payload in events
    ]
    expected = whole_answer(namespace, list(zip(ids, events, strict=True)))
    assert events_reply(namespace, queue.window()) == expected


@pytest.mark.parametrize("namespace", SERVICE_NAMESPACES)
def test_empty_page(namespace: str) -> None:
    """No events: an empty ``<ns1:events/>``, as lxml writes it."""
    assert events_reply(namespace, []) == whole_answer(namespace, [])

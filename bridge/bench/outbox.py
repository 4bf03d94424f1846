"""Pushing ERP product updates through the outbox, against building the same XML with lxml alone.

The push is measured as the daemon does it: records already queued in the outbox (SQLite) are
sent by ``Outbox.push_due``: read in batches, ids translated through the id map, checked
against the WSDL and serialised, sent, and Centra's answers and the new id mappings recorded.
The comparison builds the same envelopes, one per batch, from the same records with lxml and
serialises them. Queueing (checking the input and storing it) is reported on its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.app import App
from bridge.bench.report import OutboxRun
from bridge.centra.port import Payload
from bridge.centra.soap.flavors import CENTRA_NS
from bridge.config import CentraSettings, DatabaseSettings, Secret, Settings
from bridge.outbox.queue import queue_updates

_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_COLOURS = (("SAND", "Sand"), ("NAVY", "Navy"))
_SIZES = ("XS", "S", "M", "L", "XL")


def product_records(count: int) -> list[Payload]:
    """``count`` products as a fashion ERP sends them: master data, two colours, five sizes."""
    return [_product(number) for number in range(count)]


def _product(number: int) -> Payload:
    style = f"BENCH{number:06d}"
    return {
        "id": style,
        "status": "active",
        "sku": f"{number:06d}",
        "description": f"Merino crew neck {number}",
        "folder": {"id": "KNIT", "description": "Knitwear"},
        "brand": {"id": "NORD", "description": "Nord Atelier"},
        "collection": {"id": "AW26", "description": "Autumn Winter 26"},
        "harmcode": {"id": "61103010", "description": "Jerseys, pullovers, of wool"},
        "countryoforigin": "PT",
        "weight": {"value": "0.42", "unit": "kg"},
        "variations": [
            {
                "id": f"{style}-{code}",
                "description": colour,
                "sku": f"{number:06d}{code[:3]}",
                "status": "active",
                "sizetable": {"id": "INT", "description": "XS-XL"},
                "sizes": [
                    {
                        "id": size,
                        "sku": f"{number:06d}{code[:3]}{size}",
                        "ean": f"73{number:06d}{shade:02d}{index:02d}",
                    }
                    for index, size in enumerate(_SIZES)
                ],
            }
            for shade, (code, colour) in enumerate(_COLOURS)
        ],
    }


def run_outbox(url: str, username: str, password: str, count: int, database: Path) -> OutboxRun:
    """Queue ``count`` products in a fresh outbox, push them to the simulator at ``url``, and
    time lxml building the same envelopes."""
    settings = Settings(
        centra=CentraSettings(endpoint=url, username=username, password=Secret(password)),
        database=DatabaseSettings(url=f"sqlite:///{database}"),
        source="<bench>",
    )
    records = product_records(count)
    app = App.open(settings)
    try:
        started = time.process_time()
        queue_updates(app.store, app.codec, [{"type": "product", **record} for record in records])
        queue_cpu_s = time.process_time() - started
        # Made before the clock starts, as the drain's client is: loading the WSDL is a
        # start-up cost, not a cost per record.
        outbox = app.outbox()
        started = time.process_time()
        report = outbox.push_due()
        push_cpu_s = time.process_time() - started
    finally:
        app.close()
    if not report.ok or report.sent != count:
        raise RuntimeError(f"the bench push did not send every record: {report.summary()}")
    started = time.process_time()
    for batch in _batches(records, settings.outbox.batch_size):
        etree.tostring(_envelope(batch, username, password), encoding="utf-8")
    return OutboxRun(
        records=count,
        calls=report.calls,
        queue_cpu_s=queue_cpu_s,
        push_cpu_s=push_cpu_s,
        lxml_cpu_s=time.process_time() - started,
    )


def _batches(records: list[Payload], size: int) -> Iterator[list[Payload]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _envelope(batch: list[Payload], username: str, password: str) -> etree._Element:
    envelope = etree.Element(f"{{{_SOAP_NS}}}Envelope", nsmap={"soap-env": _SOAP_NS})
    body = etree.SubElement(envelope, f"{{{_SOAP_NS}}}Body")
    operation = etree.SubElement(body, f"{{{CENTRA_NS}}}products_Update", nsmap={"ns0": CENTRA_NS})
    _fill(operation, {"login": {"username": username, "password": password}, "products": batch})
    return envelope


def _fill(parent: etree._Element, value: Any) -> None:
    """Dicts become child elements; a list under ``names`` becomes one ``name`` per item."""
    for key, sub in value.items():
        element = etree.SubElement(parent, f"{{{CENTRA_NS}}}{key}")
        if isinstance(sub, dict):
            _fill(element, sub)
        elif isinstance(sub, list):
            for item in sub:
                _fill(etree.SubElement(element, f"{{{CENTRA_NS}}}{key[:-1]}"), item)
        else:
            element.text = str(sub)

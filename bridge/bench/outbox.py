"""Pushing product updates to Centra, against building the same request XML with lxml alone.

Measured at ``CentraClient.update_products``, the call every outbox push ends in: the payload
checked against the WSDL, serialised by zeep, sent, and Centra's ``result`` parsed. The
comparison builds the same envelope from the same records with lxml and serialises it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from lxml import etree

from bridge.bench.report import OutboxRun
from bridge.centra.client import CentraClient
from bridge.centra.flavors import CENTRA_NS
from bridge.centra.records import Payload
from bridge.config import CentraSettings, Secret

#: Records per products_Update call.
BATCH = 100
_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def product_records(count: int) -> list[Payload]:
    """``count`` products as an ERP sends them: one variation, three sizes each."""
    return [
        {
            "id": f"BENCH{number:06d}",
            "status": "active",
            "variations": [{
                "id": f"BENCH{number:06d}-SAND",
                "description": "Sand",
                "sku": f"{number:06d}SND",
                "sizes": [{"id": size, "sku": f"{number:06d}SND{size}",
                           "ean": f"73{number:08d}{index:03d}"}
                          for index, size in enumerate(("S", "M", "L"))],
            }],
        }
        for number in range(count)
    ]


def run_outbox(url: str, username: str, password: str, count: int) -> OutboxRun:
    """Push ``count`` products in batches to the simulator at ``url``; time lxml on the same."""
    records = product_records(count)
    settings = CentraSettings(endpoint=url, username=username, password=Secret(password))
    with CentraClient(settings) as client:
        started = time.process_time()
        for batch in _batches(records):
            result = client.update_products(batch)
            if not result.success:
                raise RuntimeError(f"products_Update refused: {'; '.join(result.errors)}")
        push_cpu_s = time.process_time() - started
        calls = client.calls["products_Update"]
    started = time.process_time()
    for batch in _batches(records):
        etree.tostring(_envelope(batch, username, password), encoding="utf-8")
    return OutboxRun(records=count, push_cpu_s=push_cpu_s,
                     lxml_cpu_s=time.process_time() - started, calls=calls, path="client")


def _batches(records: list[Payload]) -> Iterator[list[Payload]]:
    for start in range(0, len(records), BATCH):
        yield records[start:start + BATCH]


def _envelope(batch: list[Payload], username: str, password: str) -> etree._Element:
    envelope = etree.Element(f"{{{_SOAP_NS}}}Envelope", nsmap={"soap-env": _SOAP_NS})
    body = etree.SubElement(envelope, f"{{{_SOAP_NS}}}Body")
    operation = etree.SubElement(body, f"{{{CENTRA_NS}}}products_Update",
                                 nsmap={"ns0": CENTRA_NS})
    _fill(operation, {"login": {"username": username, "password": password},
                      "products": batch})
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

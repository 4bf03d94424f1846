"""``push --dry-run``: the exact SOAP requests a push would send, printed instead of sent.

The real client builds each request (from the WSDL's element order, login included) over an
HTTP session whose adapter keeps the request body and answers ``success=true`` itself, so
nothing leaves the machine. The login's password is masked before the XML is shown.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import requests
from lxml import etree
from requests.adapters import BaseAdapter

from bridge.centra.client import CentraClient
from bridge.centra.redact import mask_xml
from bridge.config import CentraSettings
from bridge.erp_input import WRAPPERS, ErpRecord
from bridge.store import Store
from bridge.store import idmap as idmap_repo

_ACCEPTED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:ns1="%s"><SOAP-ENV:Body><ns1:result><ns1:success>true</ns1:success>'
    b"<ns1:errors/><ns1:notices/></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


class _Recorder(BaseAdapter):
    """A requests adapter that keeps each request body and answers as Centra accepts."""

    def __init__(self, namespace: str) -> None:
        super().__init__()
        self.bodies: list[bytes] = []
        self._answer = _ACCEPTED % namespace.encode()

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        body = request.body or b""
        self.bodies.append(body.encode() if isinstance(body, str) else body)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        response.raw = io.BytesIO(self._answer)
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        return


def batches(records: list[ErpRecord], batch_size: int) -> list[list[ErpRecord]]:
    """Records grouped as a push sends them: per entity type, ``batch_size`` per call, and a
    later update of an object in a later call than the one before it (order is kept)."""
    by_type: dict[str, list[list[ErpRecord]]] = {}
    for record in records:
        calls = by_type.setdefault(record.entity_type, [])
        taken = [i for i, call in enumerate(calls) if record.erp_id in {r.erp_id for r in call}]
        first = taken[-1] + 1 if taken else 0
        target = next((call for call in calls[first:] if len(call) < batch_size), None)
        if target is None:
            target = []
            calls.append(target)
        target.append(record)
    return [call for calls in by_type.values() for call in calls]


def render_requests(
    settings: CentraSettings, store: Store, records: list[ErpRecord], batch_size: int
) -> list[str]:
    """The SOAP envelopes, password masked, with ids translated as they would be (read only)."""
    with store.transaction() as session:
        translated = {
            (record.entity_type, record.erp_id): idmap_repo.translate(
                session, record.entity_type, record.erp_id
            )[0]
            for record in records
        }
    session_ = requests.Session()
    client = CentraClient(settings, session=session_)
    recorder = _Recorder(client.flavor.namespace)
    session_.mount("http://", recorder)
    session_.mount("https://", recorder)
    with session_, client:
        for batch in batches(records, batch_size):
            client.update(WRAPPERS[batch[0].entity_type], [_payload(r, translated) for r in batch])
    return [_pretty(mask_xml(body)) for body in recorder.bodies]


def _pretty(body: bytes) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    return etree.tostring(etree.fromstring(body, parser), pretty_print=True, encoding="unicode")


def _payload(record: ErpRecord, translated: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    return {**record.fields, "id": translated[(record.entity_type, record.erp_id)]}

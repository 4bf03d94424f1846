"""What the SOAP transport knows without calling Centra: stored events read, updates checked
against the WSDL, and the exact requests a push would send (``push --dry-run``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import requests
import urllib3
from lxml import etree
from requests.adapters import BaseAdapter

from bridge.centra.port import Payload
from bridge.centra.soap.client import CentraClient
from bridge.centra.soap.flavors import flavor_for, update_wrapper
from bridge.centra.soap.parse import event_payload
from bridge.centra.soap.payload import to_zeep
from bridge.centra.soap.redact import mask_xml
from bridge.centra.soap.schema import Node, load_schema
from bridge.config import CentraSettings

_ACCEPTED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:ns1="%s"><SOAP-ENV:Body><ns1:result><ns1:success>true</ns1:success>'
    b"<ns1:errors/><ns1:notices/></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


class SoapCodec:
    """The ``EventCodec`` of the configured SOAP flavor (its WSDL is read once)."""

    def __init__(self, settings: CentraSettings) -> None:
        self.settings = settings
        self.flavor = flavor_for(settings)
        self.schema = load_schema(self.flavor.wsdl_path)

    def decode(self, stored: str) -> Payload:
        return event_payload(stored, self.schema)

    def update_problem(self, entity_type: str, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        try:
            to_zeep(dict(fields), self._item_node(entity_type), "")
        except ValueError as exc:
            return _split_message(str(exc))
        return None

    def preview_updates(self, entity_type: str, batches: Sequence[Sequence[Payload]]) -> list[str]:
        """The real client builds each request (element order and login from the WSDL) over
        an HTTP session that keeps the body and answers ``success=true`` itself, so nothing
        leaves the machine; the password is masked before the XML is shown."""
        session = requests.Session()
        recorder = _Recorder(self.flavor.namespace)
        session.mount("http://", recorder)
        session.mount("https://", recorder)
        with session, CentraClient(self.settings, session=session) as client:
            for batch in batches:
                client.send_updates(entity_type, batch)
        return [_pretty(mask_xml(body)) for body in recorder.bodies]

    def _item_node(self, entity_type: str) -> Node:
        wrapper = update_wrapper(entity_type)
        item = self.schema.element(f"{wrapper}_Update").children[wrapper].node.item
        assert item is not None, f"{wrapper} is a list wrapper in every Centra WSDL"
        return item.node


def _split_message(message: str) -> tuple[str, str]:
    """to_zeep's ``unknown key a.b: problem`` / ``a.b: problem`` → (``a.b``, problem)."""
    text = message.removeprefix("unknown key ")
    path, _, problem = text.partition(": ")
    if message.startswith("unknown key "):
        problem = f"unknown field ({problem})"
    return path.lstrip("."), problem


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
        self.bodies.append(body.encode() if isinstance(body, str) else bytes(body))
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "text/xml; charset=utf-8"
        # A real urllib3 response, read as the transport reads every answer.
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(self._answer), status=200, preload_content=False
        )
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        return


def _pretty(body: bytes) -> str:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    return str(
        etree.tostring(etree.fromstring(body, parser), pretty_print=True, encoding="unicode")
    )

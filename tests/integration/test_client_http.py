"""CentraClient over real HTTP on loopback, against a scripted server defined here."""

from __future__ import annotations

import gzip
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from event_xml import main_schema
from lxml import etree
from structlog.testing import capture_logs

from bridge.centra.errors import (
    CentraAuthError,
    CentraError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.centra.soap.client import CentraClient
from bridge.centra.soap.flavors import CENTRA_NS, SILKVMS_NS
from bridge.centra.soap.parse import event_payload
from bridge.config import CentraSettings, Secret

PASSWORD = "pa55-Word!"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PAGE = (
    '<?xml version="1.0"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="'
    + SOAP_ENV
    + '" xmlns:ns1="{ns}"><SOAP-ENV:Body><ns1:events_Get><ns1:events>'
    "<ns1:event><ns1:id>115</ns1:id><ns1:type>order</ns1:type><ns1:entry>30</ns1:entry>"
    "<ns1:mission>update</ns1:mission><ns1:date>2019-03-27 12:52:20</ns1:date><ns1:data>"
    "<ns1:order><ns1:id>30</ns1:id><ns1:status>confirmed</ns1:status></ns1:order></ns1:data>"
    "</ns1:event></ns1:events></ns1:events_Get></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
)
RESULT = (
    '<?xml version="1.0"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="'
    + SOAP_ENV
    + '" xmlns:ns1="{ns}"><SOAP-ENV:Body><ns1:result><ns1:success>true</ns1:success>'
    "<ns1:errors/><ns1:notices/></ns1:result></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
)
FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="'
    + SOAP_ENV
    + '"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode>'
    "<faultstring>{text}</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(
        default_factory=lambda: {
            "Content-Type": "text/xml; charset=utf-8",
            "X-Centra-Request-ID": "1_abc123",
        }
    )
    #: Wait for this event (set at teardown) before answering: a server that never answers.
    hang: threading.Event | None = None
    #: Send the body with chunked encoding and no Content-Length.
    chunked: bool = False
    #: Send the body one byte at a time, this many seconds apart (a server that trickles).
    trickle_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def request(self) -> etree._Element:
        """The element inside the SOAP Body."""
        return etree.fromstring(self.body).find(f"{{{SOAP_ENV}}}Body")[0]


class QuietServer(ThreadingHTTPServer):
    """A client hanging up mid-answer (timeouts, the byte cap) is expected, not news."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedServer:
    """Answers each POST with the next scripted Reply (the last one repeats) and records it."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        self.release = threading.Event()
        self._httpd = QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/ams/system/service/module/soap/api"

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.received.append(Received(self.path, dict(self.headers), body))
                reply = server._next()
                if reply.hang is not None:
                    reply.hang.wait(10)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(reply.body), 4096):
                        piece = reply.body[start : start + 4096]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.trickle_s:
                    for byte in reply.body:
                        if server.release.wait(reply.trickle_s):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        return Handler


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


Factory = Callable[..., CentraClient]


@pytest.fixture
def make_client(server: ScriptedServer) -> Iterator[Factory]:
    made: list[CentraClient] = []

    def make(**overrides: Any) -> CentraClient:
        values: dict[str, Any] = {
            "endpoint": server.url,
            "username": "erp-user",
            "password": Secret(PASSWORD),
            "timeout_s": 5.0,
        }
        observe = overrides.pop("observe", None)
        values.update(overrides)
        client = CentraClient(CentraSettings(**values), observe=observe)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def xml(template: str, ns: str = CENTRA_NS, **values: str) -> bytes:
    text = template.replace("{ns}", ns)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.encode()


def assert_secret_free(exc: BaseException) -> None:
    """Neither the error nor anything in its chain shows the password."""
    seen: BaseException | None = exc
    while seen is not None:
        assert PASSWORD not in str(seen)
        assert PASSWORD not in repr(seen)
        request = getattr(seen, "request", None)
        assert request is None or PASSWORD.encode() not in (request.body or b"")
        seen = seen.__cause__ or seen.__context__


def local_names(element: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in element]


class TestSuccess:
    def test_get_events_over_http(self, server: ScriptedServer, make_client: Factory) -> None:
        """One events_Get: the request follows the contract, the page keeps raw bytes and id."""
        server.replies.append(Reply(body=xml(PAGE)))
        page = make_client().get_events()
        (got,) = server.received
        assert got.path == "/ams/system/service/module/soap/api"
        assert got.headers["SOAPAction"] == f'"{CENTRA_NS}Events_Get"'
        assert got.headers["Content-Type"].startswith("text/xml")
        assert got.request.tag == f"{{{CENTRA_NS}}}events_GetRequest"
        assert local_names(got.request) == ["login", "type"]
        assert got.request.findtext(f"{{{CENTRA_NS}}}login/{{{CENTRA_NS}}}password") == PASSWORD
        assert got.request.findtext(f"{{{CENTRA_NS}}}type") == "all"
        assert page.raw == xml(PAGE)
        assert page.request_id == "1_abc123"
        (event,) = page.events
        assert (event.event_id, event.payload_kind) == ("115", "order")
        assert event_payload(event.xml, main_schema()) == {"id": "30", "status": "confirmed"}

    def test_raw_bytes_are_kept_exactly(self, server: ScriptedServer, make_client: Factory) -> None:
        """Odd whitespace, chunked transfer and trailing bytes: raw is the body byte for byte."""
        body = xml(PAGE).replace(b"<ns1:events>", b"<ns1:events>\r\n\t ") + b"  \n"
        server.replies.append(Reply(body=body, chunked=True))
        assert make_client().get_events().raw == body

    def test_events_done_in_one_call(self, server: ScriptedServer, make_client: Factory) -> None:
        """events_Done carries every id as its own <event>, after the login."""
        server.replies.append(Reply(body=xml(RESULT)))
        client = make_client()
        result = client.acknowledge(["115", "116", "117"])
        (got,) = server.received
        assert got.headers["SOAPAction"] == f'"{CENTRA_NS}Events_Done"'
        assert local_names(got.request) == ["login", "event", "event", "event"]
        assert [el.text for el in got.request][1:] == ["115", "116", "117"]
        assert result.success is True
        assert result.request_id == "1_abc123"
        assert client.calls == {"events_Done": 1}

    def test_no_ids_no_call(self, server: ScriptedServer, make_client: Factory) -> None:
        """Acknowledging nothing costs no round trip."""
        assert make_client().acknowledge([]).success is True
        assert server.received == []

    def test_markets_and_updates(self, server: ScriptedServer, make_client: Factory) -> None:
        """Markets switch to events_GetByMarkets; updates send only the given keys."""
        server.replies += [Reply(body=xml(PAGE)), Reply(body=xml(RESULT))]
        client = make_client(markets=("Retail-SE",))
        client.get_events(event_type="order")
        client.send_updates("customer", [{"id": "4711", "firstname": "Åsa"}])
        markets, customers = (r.request for r in server.received)
        assert markets.tag == f"{{{CENTRA_NS}}}events_GetByMarkets"
        assert local_names(markets) == ["login", "type", "markets"]
        assert markets.findtext(f".//{{{CENTRA_NS}}}market/{{{CENTRA_NS}}}id") == "Retail-SE"
        (customer,) = customers.iter(f"{{{CENTRA_NS}}}customer")
        assert local_names(customer) == ["id", "firstname"]
        assert customer.findtext(f"{{{CENTRA_NS}}}firstname") == "Åsa"
        assert client.calls == {"events_GetByMarkets": 1, "customers_Update": 1}

    def test_orders_update_and_refused_keys(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """orders_Update carries the cookbook's lock; a key the WSDL lacks is refused unsent."""
        server.replies.append(Reply(body=xml(RESULT)))
        client = make_client()
        with pytest.raises(ValueError, match=r"orders\[0\]\.shipments\[0\]\.colour"):
            client.send_updates(
                "order", [{"id": "30", "shipments": [{"id": "30-1", "colour": "red"}]}]
            )
        with pytest.raises(ValueError, match="no operation"):
            client.send_updates("gadget", [{"id": "1"}])
        assert server.received == []
        client.send_updates("order", [{"id": "30", "type": "retail", "store": 1, "locked": "yes"}])
        (got,) = server.received
        assert got.headers["SOAPAction"] == f'"{CENTRA_NS}Orders_Update"'
        (order,) = got.request.iter(f"{{{CENTRA_NS}}}order")
        assert [(etree.QName(el).localname, el.text) for el in order] == [
            ("id", "30"),
            ("type", "retail"),
            ("store", "1"),
            ("locked", "yes"),
        ]

    def test_navision_api_basic_auth(self, server: ScriptedServer, make_client: Factory) -> None:
        """navision-api sends Basic auth and no <login>; a 401 is CentraAuthError."""
        server.replies += [
            Reply(body=xml(PAGE, SILKVMS_NS)),
            Reply(status=401, body=b"Unauthorized"),
        ]
        client = make_client(flavor="navision-api")
        client.get_events()
        assert server.received[0].headers["Authorization"].startswith("Basic ")
        assert server.received[0].request.tag == f"{{{SILKVMS_NS}}}events_GetRequest"
        assert local_names(server.received[0].request) == ["type"]
        with pytest.raises(CentraAuthError) as caught:
            client.get_events()
        assert_secret_free(caught.value)

    def test_proxy_from_the_environment(
        self, server: ScriptedServer, make_client: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """HTTP_PROXY is honoured (read once, when the client is made); NO_PROXY bypasses it."""
        endpoint = "http://centra.example.invalid/ams/system/service/module/soap/api"
        proxy = server.url.split("/ams/")[0]
        server.replies.append(Reply(body=xml(PAGE)))
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        proxied = make_client(endpoint=endpoint)
        assert [event.event_id for event in proxied.get_events().events] == ["115"]
        assert [got.path for got in server.received] == [endpoint], "sent through the proxy"
        monkeypatch.setenv("NO_PROXY", "centra.example.invalid")
        with pytest.raises(CentraUnavailable):
            make_client(endpoint=endpoint, timeout_s=2.0).get_events()
        assert len(server.received) == 1, "NO_PROXY: not sent to the proxy"

    def test_one_debug_line_per_call_without_secrets(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """Each call logs operation, time, size and request id; never a body or the password."""
        server.replies.append(Reply(body=xml(PAGE)))
        with capture_logs() as logs:
            make_client().get_events()
        (line,) = [entry for entry in logs if entry["event"] == "centra.call"]
        assert line["operation"] == "events_Get"
        assert line["bytes"] == len(xml(PAGE))
        assert line["request_id"] == "1_abc123"
        assert "ms" in line
        assert PASSWORD not in repr(logs)
        assert "events_Get>" not in repr(logs)


class TestObserver:
    def test_every_call_is_told_with_its_operation_and_error(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """The observer hears of each call as it ends: the operation, a duration, and the
        error it raised (None for a success)."""
        heard: list[tuple[str, float, Exception | None]] = []
        server.replies += [
            Reply(body=xml(PAGE)),
            Reply(status=503, body=b"busy"),
            Reply(status=500, body=xml(FAULT, code="Server", text="no such product")),
        ]
        client = make_client(observe=lambda *call: heard.append(call))
        client.get_events()
        with pytest.raises(CentraUnavailable):
            client.acknowledge(["115"])
        with pytest.raises(CentraFault):
            client.send_updates("product", [{"id": "P1"}])
        assert [operation for operation, _, _ in heard] == [
            "events_Get",
            "events_Done",
            "products_Update",
        ]
        assert all(seconds >= 0 for _, seconds, _ in heard)
        errors = [error for _, _, error in heard]
        assert errors[0] is None
        assert isinstance(errors[1], CentraUnavailable)
        assert isinstance(errors[2], CentraFault)

    def test_a_failing_observer_never_costs_the_call(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """An observer that raises is logged; the call's own answer still comes back."""

        def broken(operation: str, seconds: float, error: Exception | None) -> None:
            raise RuntimeError("observer broke")

        server.replies.append(Reply(body=xml(PAGE)))
        with capture_logs() as logs:
            page = make_client(observe=broken).get_events()
        assert [event.event_id for event in page.events] == ["115"]
        assert [line["operation"] for line in logs if "observer failed" in line["event"]] == [
            "events_Get"
        ]


class TestFailures:
    def test_timeout_fires(self, server: ScriptedServer, make_client: Factory) -> None:
        """A server that never answers ends in CentraUnavailable, not a hang."""
        server.replies.append(Reply(hang=server.release))
        with pytest.raises(CentraUnavailable) as caught:
            make_client(timeout_s=0.5).get_events()
        assert "Timeout" in str(caught.value)
        assert_secret_free(caught.value)

    def test_a_trickling_answer_is_abandoned_at_the_timeout(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """An answer sent a byte at a time, each byte well within the read timeout, is still
        abandoned once the timeout has passed: the timeout bounds the whole call."""
        server.replies.append(Reply(body=xml(PAGE), trickle_s=0.05))
        with pytest.raises(CentraUnavailable, match="did not arrive within the timeout"):
            make_client(timeout_s=0.5).get_events()

    def test_connection_refused(self, make_client: Factory) -> None:
        """Nobody listening is CentraUnavailable, with the requests error kept as cause."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(CentraUnavailable) as caught:
            make_client(endpoint=f"http://127.0.0.1:{port}/soap").get_events()
        assert caught.value.__cause__ is not None
        assert caught.value.retryable
        assert_secret_free(caught.value)

    def test_throttled_answer_says_how_long_to_wait(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """HTTP 429 with Retry-After is CentraUnavailable carrying the wait Centra asked for."""
        server.replies.append(Reply(status=429, body=b"slow down", headers={"Retry-After": "17"}))
        with pytest.raises(CentraUnavailable) as caught:
            make_client().get_events()
        assert (caught.value.status_code, caught.value.retry_after_s) == (429, 17.0)

    def test_bad_gateway_page(self, server: ScriptedServer, make_client: Factory) -> None:
        """HTTP 502 with an HTML page is CentraUnavailable(status_code=502), request id kept."""
        server.replies.append(
            Reply(
                status=502,
                body=b"<html><body>Bad Gateway</body></html>",
                headers={"Content-Type": "text/html", "X-Centra-Request-ID": "1_gw"},
            )
        )
        with pytest.raises(CentraUnavailable) as caught:
            make_client().get_events()
        assert (caught.value.status_code, caught.value.request_id) == (502, "1_gw")

    def test_server_fault(self, server: ScriptedServer, make_client: Factory) -> None:
        """HTTP 500 with a Server Fault is CentraFault with code and message."""
        server.replies.append(
            Reply(status=500, body=xml(FAULT, code="Server", text="Database connection lost"))
        )
        with pytest.raises(CentraFault) as caught:
            make_client().send_updates("product", [{"id": "P1"}])
        assert not isinstance(caught.value, CentraAuthError)
        assert caught.value.code == "Server"
        assert "Database connection lost" in str(caught.value)

    def test_bad_login_fault(self, server: ScriptedServer, make_client: Factory) -> None:
        """A Fault about the login is CentraAuthError; an echoed password is blanked out."""
        text = f"Login failed for erp-user with password {PASSWORD}"
        server.replies.append(Reply(status=500, body=xml(FAULT, code="Client", text=text)))
        with pytest.raises(CentraAuthError) as caught:
            make_client().get_events()
        assert "Login failed" in str(caught.value)
        assert_secret_free(caught.value)

    @pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
    def test_answer_over_the_cap(
        self, server: ScriptedServer, make_client: Factory, chunked: bool
    ) -> None:
        """An answer larger than max_response_bytes is refused, whether announced or not."""
        server.replies.append(Reply(body=xml(PAGE) + b" " * 20_000, chunked=chunked))
        with pytest.raises(CentraProtocolError, match="max_response_bytes"):
            make_client(max_response_bytes=10_000).get_events()

    def test_gzip_bomb_is_capped_after_decoding(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """The cap counts decoded bytes, so a small compressed body cannot blow up memory."""
        body = gzip.compress(xml(PAGE) + b" " * 2_000_000)
        assert len(body) < 10_000
        server.replies.append(
            Reply(body=body, headers={"Content-Type": "text/xml", "Content-Encoding": "gzip"})
        )
        with pytest.raises(CentraProtocolError, match="max_response_bytes"):
            make_client(max_response_bytes=100_000).get_events()

    def test_not_xml(self, server: ScriptedServer, make_client: Factory) -> None:
        """A 200 that is not XML is a protocol error, and it is counted as a call."""
        server.replies.append(Reply(body=b"PHP Warning: something broke"))
        client = make_client()
        with pytest.raises(CentraProtocolError, match="not XML"):
            client.get_events()
        assert client.calls == {"events_Get": 1}

    def test_a_short_password_is_masked_too(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """A five-character password echoed in a Fault's text is masked like a long one."""
        short = "k9#Qz"
        server.replies.append(
            Reply(status=500, body=xml(FAULT, code="Server", text=f"no user with {short}"))
        )
        with pytest.raises(CentraError) as caught:
            make_client(password=Secret(short)).get_events()
        assert short not in str(caught.value)
        assert "no user with ********" in str(caught.value)

    def test_no_error_shows_the_password(
        self, server: ScriptedServer, make_client: Factory
    ) -> None:
        """Across the failure kinds the password never reaches an exception."""
        server.replies += [
            Reply(status=500, body=xml(FAULT, code="Server", text=f"echo {PASSWORD}")),
            Reply(status=503, body=PASSWORD.encode()),
            Reply(body=b"<x>" + PASSWORD.encode() + b"</y>"),
            Reply(
                body=xml(RESULT)
                .replace(
                    b"<ns1:errors/>",
                    b"<ns1:errors><ns1:message>"
                    b"Bad credentials " + PASSWORD.encode() + b"</ns1:message></ns1:errors>",
                )
                .replace(b"true", b"false")
            ),
        ]
        client = make_client()
        for call in (
            client.get_events,
            client.get_events,
            client.get_events,
            lambda: client.acknowledge(["1"]),
        ):
            with pytest.raises(CentraError) as caught:
                call()
            assert_secret_free(caught.value)

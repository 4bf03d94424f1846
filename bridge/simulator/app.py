"""The simulator's WSGI layer: Centra's three endpoints, logins, dispatch and call records."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from lxml import etree

from bridge.config import EVENT_TYPES
from bridge.simulator.orderbook import OrderBook
from bridge.simulator.orders import Order
from bridge.simulator.prices import PriceBook
from bridge.simulator.queue import EventQueue, QueuedEvent
from bridge.simulator.soap import (
    CENTRA_NS,
    SILK_NS,
    Payload,
    SoapClientError,
    SoapRequest,
    child,
    child_text,
    children,
    envelope,
    events_done_reply,
    fault_reply,
    parse_request,
    result_reply,
    serialize,
    to_data,
)
from bridge.simulator.store import UPDATE_OPERATIONS, ObjectStore, UpdateOutcome
from bridge.simulator.wsdl import WsdlUnavailable, rewritten_wsdl

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

#: Invented: Centra's docs show no answer to a bad login (centra-soap.md U4); we send a Fault.
LOGIN_FAILED = "Login failed: wrong username or password"
#: Far above any real request; a body larger than this is refused unread.
MAX_BODY_BYTES = 20 * 1024 * 1024
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
#: PHP session-style cache headers seen on Centra's answers (§1.2).
_CACHE_HEADERS = (
    ("Expires", "Thu, 19 Nov 1981 08:52:00 GMT"),
    ("Cache-Control", "no-store, no-cache, must-revalidate"),
    ("Pragma", "no-cache"),
)


@dataclass(frozen=True, slots=True)
class Flavor:
    """One of Centra's three SOAP endpoints."""

    name: str
    path: str
    namespace: str
    wsdl_file: str
    #: navision/api carries no body login in Centra's samples; we also accept HTTP Basic (U2).
    basic_auth: bool = False


FLAVORS: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        Flavor("soap", "/ams/system/service/module/soap/api", CENTRA_NS, "centra-soap-api.wsdl"),
        Flavor(
            "navision-soap",
            "/ams/system/service/module/navision/soap",
            SILK_NS,
            "navision-soap.wsdl",
        ),
        Flavor(
            "navision-api",
            "/ams/system/service/module/navision/api",
            SILK_NS,
            "navision-api.wsdl",
            basic_auth=True,
        ),
    )
}
_BY_PATH = {flavor.path: flavor for flavor in FLAVORS.values()}
#: Body element → operation, where they differ: ``events_Get`` names the answer (§1.3).
_OPERATION_OF_ELEMENT = {"events_GetRequest": "events_Get"}


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request the simulator received, and how it answered."""

    flavor: str
    method: str
    #: Local name of the body element ("" when the body could not be parsed; "wsdl" for ?wsdl).
    operation: str
    #: The SOAPAction header without its quotes ("" when absent).
    soap_action: str
    #: Request headers, names in lower case.
    headers: dict[str, str]
    body: bytes
    status: int
    request_id: str
    #: The faultstring when the answer was a Fault.
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A SOAP POST as a fault hook sees it, before the simulator answers."""

    flavor: Flavor
    headers: dict[str, str]
    body: bytes
    operation: str


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer; a fault hook may return one to replace the simulator's own."""

    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE
    fault: str | None = None
    #: Send only this many bytes of ``body`` (with its full Content-Length), then close:
    #: a connection broken in the middle of the answer.
    cut_after: int | None = None


#: Sees every SOAP POST first (operation already parsed, "" if the body is not usable SOAP);
#: returns a Reply to answer instead of the simulator (an HTTP 503, a truncated body), or None to
#: let it answer. A hook may also block (latency) before returning; hooks run in list order.
FaultHook = Callable[[Request], Reply | None]
#: Sees every SOAP POST after the simulator answered it (its state already changed) and returns
#: the Reply to send: the same one, or another (events_Done done, but its answer lost).
AfterHook = Callable[[Request, Reply], Reply]


@dataclass
class SimState:
    """Everything server threads and the test thread share, behind one re-entrant lock."""

    queue: EventQueue = field(default_factory=EventQueue)
    store: ObjectStore = field(default_factory=ObjectStore)
    orders: OrderBook = field(default_factory=OrderBook)
    prices: PriceBook = field(default_factory=PriceBook)
    #: Queue the order event that follows each order an orders_Update changed (§1.5: inferred
    #: that Centra does; the switch lets a test see the bridge without it).
    echo_orders: bool = True
    #: Every capture that would happen fails instead (a payment provider refusing; invented).
    capture_fails: bool = False
    #: Queues the event of an order an update changed; the simulator sets it.
    order_changed: Callable[[Order], object] = lambda order: None
    calls: list[Call] = field(default_factory=list)
    #: How events_Done is answered: one of ``EVENTS_DONE_ANSWERS``.
    events_done_answer: str = "result"
    faults: list[FaultHook] = field(default_factory=list)
    after: list[AfterHook] = field(default_factory=list)
    #: Set when the simulator stops, so a hook holding a request back lets go.
    stopping: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(
        default_factory=lambda: threading.Condition(threading.RLock())
    )

    def notify(self) -> None:
        """Wake whoever waits for the simulator's state to change."""
        with self.changed:
            self.changed.notify_all()


def fault(message: str, code: str = "SOAP-ENV:Client") -> Reply:
    """An HTTP 500 SOAP Fault, as PHP's SoapServer sends it."""
    return Reply(500, fault_reply(code, message), fault=message)


def events_reply(namespace: str, events: Iterable[QueuedEvent]) -> bytes:
    """``ns1:events_Get/ns1:events/ns1:event*``, the answer of both event queries (§2.2).

    Each event's bytes were made when it was queued; only the envelope, which binds ``ns1`` to
    the endpoint's namespace, and each ``ns1:id`` are written here.
    """
    root, body = envelope(namespace)
    etree.SubElement(etree.SubElement(body, f"{{{namespace}}}events_Get"), f"{{{namespace}}}events")
    empty = serialize(root)
    page = b"".join(
        b"<ns1:event><ns1:id>%s</ns1:id>%s</ns1:event>" % (queued.id.encode(), queued.event.xml)
        for queued in events
    )
    if not page:
        return empty
    head, _, tail = empty.partition(b"<ns1:events/>")
    return b"".join((head, b"<ns1:events>", page, b"</ns1:events>", tail))


class SoapApp:
    """A WSGI application answering like Centra's SOAP endpoints."""

    def __init__(
        self,
        state: SimState,
        *,
        username: str,
        password: str,
        wsdl_dir: Path | None,
        base_url: Callable[[], str],
    ) -> None:
        self._state = state
        self._credentials = (username, password)
        self._wsdl_dir = wsdl_dir
        self._base_url = base_url
        #: Handlers by body element; updates share one handler (see ``_dispatch``).
        self._operations: dict[str, Callable[[Flavor, etree._Element], Reply]] = {
            "events_GetRequest": self._events_get,
            "events_GetByMarkets": self._events_get_by_markets,
            "events_Done": self._events_done,
            "orders_Update": self._orders_update,
            "pricelists_Update": self._pricelists_update,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        request_id = uuid.uuid4().hex
        headers = _request_headers(environ)
        method = environ["REQUEST_METHOD"]
        flavor = _BY_PATH.get(environ.get("PATH_INFO", ""))
        body = b""
        operation = ""
        if flavor is None:
            reply = Reply(404, b"Not found\n", TEXT_CONTENT_TYPE)
        elif method == "GET" and "wsdl" in _query_keys(environ):
            operation = "wsdl"
            reply = self._wsdl(flavor)
        elif method != "POST":
            reply = Reply(405, b"POST a SOAP envelope, or GET ?wsdl\n", TEXT_CONTENT_TYPE)
        else:
            body, operation, reply = self._post(flavor, environ, headers)
        call = Call(
            flavor.name if flavor else "",
            method,
            operation,
            headers.get("soapaction", "").strip('"'),
            headers,
            body,
            reply.status,
            request_id,
            reply.fault,
        )
        with self._state.changed:
            self._state.calls.append(call)
            self._state.changed.notify_all()
        start_response(
            _status_line(reply.status),
            [
                ("Content-Type", reply.content_type),
                ("Content-Length", str(len(reply.body))),
                ("X-Centra-Request-ID", request_id),
                ("X-Correlation-ID", f"centra_{request_id}"),
                *_CACHE_HEADERS,
            ],
        )
        if reply.cut_after is not None:
            # HTTP/1.0: the connection closes after this, short of its Content-Length.
            return [reply.body[: reply.cut_after]]
        return [reply.body]

    def _post(
        self, flavor: Flavor, environ: WSGIEnvironment, headers: dict[str, str]
    ) -> tuple[bytes, str, Reply]:
        """Read, parse, pass through the fault hooks, then answer."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return b"", "", fault(f"Request larger than {MAX_BODY_BYTES} bytes")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        parsed: SoapRequest | SoapClientError
        try:
            parsed = parse_request(body, flavor.namespace)
        except SoapClientError as exc:
            parsed = exc
        element = parsed.operation if isinstance(parsed, SoapRequest) else ""
        operation = _OPERATION_OF_ELEMENT.get(element, element)
        request = Request(flavor, headers, body, operation)
        for hook in list(self._state.faults):
            injected = hook(request)
            if injected is not None:
                return body, operation, injected
        if isinstance(parsed, SoapClientError):
            return body, operation, fault(str(parsed))
        try:
            reply = self._dispatch(flavor, parsed, headers)
        except Exception as exc:
            log.exception("simulator failed on %s", operation)
            return body, operation, fault(f"Internal error: {exc}", "SOAP-ENV:Server")
        for after in list(self._state.after):
            reply = after(request, reply)
        return body, operation, reply

    def _dispatch(self, flavor: Flavor, request: SoapRequest, headers: dict[str, str]) -> Reply:
        """Find the handler by body element (not SOAPAction, U5), check the login, answer."""
        handler = self._operations.get(request.operation)
        if handler is None and request.operation in UPDATE_OPERATIONS:
            handler = self._update
        if handler is None:
            return fault(f"Unknown operation: {request.operation}")
        if not self._logged_in(flavor, request.element, headers.get("authorization", "")):
            return fault(LOGIN_FAILED)
        with self._state.changed:
            return handler(flavor, request.element)

    def _logged_in(self, flavor: Flavor, operation: etree._Element, authorization: str) -> bool:
        """Body login everywhere; on navision/api HTTP Basic instead of it is accepted too."""
        login = child(operation, "login")
        if login is not None:
            sent = (child_text(login, "username") or "", child_text(login, "password") or "")
            return self._matches(sent)
        if flavor.basic_auth and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            username, _, password = decoded.partition(":")
            return self._matches((username, password))
        return False

    def _matches(self, sent: tuple[str, str]) -> bool:
        """Compare in constant time, both fields always, so timing tells nothing."""
        username_ok = hmac.compare_digest(sent[0].encode(), self._credentials[0].encode())
        password_ok = hmac.compare_digest(sent[1].encode(), self._credentials[1].encode())
        return username_ok and password_ok

    def _events_get(self, flavor: Flavor, operation: etree._Element) -> Reply:
        kind = _event_type(operation)
        if isinstance(kind, Reply):
            return kind
        return Reply(200, events_reply(flavor.namespace, self._state.queue.window(kind)))

    def _events_get_by_markets(self, flavor: Flavor, operation: etree._Element) -> Reply:
        kind = _event_type(operation)
        if isinstance(kind, Reply):
            return kind
        markets_el = child(operation, "markets")
        markets = (
            {child_text(market, "id") or "" for market in children(markets_el, "market")}
            if markets_el is not None
            else set()
        )
        window = self._state.queue.window(kind, markets=markets)
        return Reply(200, events_reply(flavor.namespace, window))

    def _events_done(self, flavor: Flavor, operation: etree._Element) -> Reply:
        ids = [(event.text or "").strip() for event in children(operation, "event")]
        self._state.queue.done(ids)
        return Reply(200, events_done_reply(flavor.namespace, self._state.events_done_answer))

    def _update(self, flavor: Flavor, operation: etree._Element) -> Reply:
        """Any other ``*_Update``: a generic upsert with the partial-update rule."""
        items = _update_items(operation)
        if isinstance(items, UpdateOutcome):
            return _outcome_reply(flavor, items)
        _, item_name = UPDATE_OPERATIONS[etree.QName(operation).localname]
        return _outcome_reply(flavor, self._state.store.upsert(item_name, items))

    def _orders_update(self, flavor: Flavor, operation: etree._Element) -> Reply:
        """orders_Update with Centra's order semantics; each changed order's event follows."""
        items = _update_items(operation)
        if isinstance(items, UpdateOutcome):
            return _outcome_reply(flavor, items)
        result = self._state.orders.update(items, capture_fails=self._state.capture_fails)
        if self._state.echo_orders:
            for order in result.changed:
                self._state.order_changed(order)
        return _outcome_reply(flavor, result.outcome)

    def _pricelists_update(self, flavor: Flavor, operation: etree._Element) -> Reply:
        """pricelists_Update: prices kept per pricelist, and the pricelist stored as sent."""
        items = _update_items(operation)
        if isinstance(items, UpdateOutcome):
            return _outcome_reply(flavor, items)
        priced, accepted = self._state.prices.update(items)
        stored = self._state.store.upsert("pricelist", list(accepted))
        return _outcome_reply(flavor, UpdateOutcome(priced.success, priced.errors, stored.notices))

    def _wsdl(self, flavor: Flavor) -> Reply:
        if self._wsdl_dir is None:
            return Reply(404, b"No wsdl directory found\n", TEXT_CONTENT_TYPE)
        try:
            body = rewritten_wsdl(self._wsdl_dir / flavor.wsdl_file, self._base_url() + flavor.path)
        except WsdlUnavailable as exc:
            return Reply(404, f"{exc}\n".encode(), TEXT_CONTENT_TYPE)
        return Reply(200, body)


def _update_items(operation: etree._Element) -> list[Payload | str] | UpdateOutcome:
    """The objects of an ``*_Update``, or the refusal of one that sends none."""
    wrapper_name, item_name = UPDATE_OPERATIONS[etree.QName(operation).localname]
    wrapper = child(operation, wrapper_name)
    items = [to_data(item) for item in children(wrapper, item_name)] if wrapper is not None else []
    if not items:
        # Invented wording: an update without objects is not described by Centra.
        return UpdateOutcome(False, [f"No <{item_name}> in <{wrapper_name}>"])
    return items


def _outcome_reply(flavor: Flavor, outcome: UpdateOutcome) -> Reply:
    return Reply(
        200, result_reply(flavor.namespace, outcome.success, outcome.errors, outcome.notices)
    )


def _status_line(status: int) -> str:
    """``"503 Service Unavailable"``; a hook may use a code the stdlib does not name."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _event_type(operation: etree._Element) -> str | Reply:
    """The ``type`` filter, or a Fault for a value outside Centra's documented set (invented)."""
    kind = (child_text(operation, "type") or "").strip()
    if kind not in EVENT_TYPES:
        return fault(f"Invalid event type: {kind!r}; expected one of {', '.join(EVENT_TYPES)}")
    return kind


def _request_headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


def _query_keys(environ: WSGIEnvironment) -> set[str]:
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return {key.lower() for key in query}

"""A strict stand-in for Centra's SOAP endpoints, built from centra-soap.md alone.

It speaks the wire as Centra's public docs show it (SOAP 1.1, document/literal, answers shaped like
the captured responses), keeps an event queue with the documented semantics, records every request,
and answers any breach of the contract with an HTTP 500 SOAP Fault naming the breach, which it also
keeps in ``violations`` so a test can assert there were none.
"""

from __future__ import annotations

import base64
import secrets
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import ClassVar
from xml.sax.saxutils import escape

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CENTRA_NS = "http://www.centra.com/webservices/"
SILK_NS = "http://www.silkvms.com/webservices/"
#: The capture date format (centra-soap.md §2.2, U6).
CAPTURE_DATE = "2019-03-27 12:52:20"
#: Page size of events_Get (§2.2).
PAGE_SIZE = 100
#: Values the ``type`` filter accepts (§2.1).
EVENT_TYPES = frozenset(
    {
        "all",
        "account",
        "customer",
        "invoice",
        "market",
        "order",
        "paymentterm",
        "pricelist",
        "salesrep",
        "shippingterm",
        "size",
        "warehouse",
    }
)
CAPTURES = Path(__file__).parent / "captures"


@dataclass(frozen=True)
class Flavor:
    """One of the three documented endpoints (§1.1)."""

    name: str
    path: str
    namespace: str
    #: "body": <login> first in the operation element; "basic": HTTP Basic auth, no <login>.
    login: str


FLAVORS: dict[str, Flavor] = {
    "soap": Flavor("soap", "/ams/system/service/module/soap/api", CENTRA_NS, "body"),
    "navision-soap": Flavor(
        "navision-soap", "/ams/system/service/module/navision/soap", SILK_NS, "body"
    ),
    # The docs show no <login> in navision/api bodies and do not say how credentials travel
    # (§8 U2); the project assumes HTTP Basic auth, so that is what the double checks.
    "navision-api": Flavor(
        "navision-api", "/ams/system/service/module/navision/api", SILK_NS, "basic"
    ),
}


# --- request schemas (§2.1, §3, §4.2, §4.3) -------------------------------------------------


@dataclass(frozen=True)
class El:
    """One element of a request schema: text-only when ``children`` is None."""

    name: str
    children: tuple[El, ...] | None = None
    many: bool = False


def _ids(*names: str) -> tuple[El, ...]:
    return tuple(El(n) for n in names)


_IDDESC = _ids("id", "description")
_LIST_ID_DESC = (El("category", _IDDESC, many=True),)
_DISPLAY = El(
    "display",
    (
        El("store"),
        El("categories", _LIST_ID_DESC),
        El("categoriesremove", _LIST_ID_DESC),
        El("markets", (El("market", _IDDESC, many=True),)),
        El("marketsremove", (El("market", _IDDESC, many=True),)),
        El("minimumorderamount"),
        El("orderdenominator"),
    ),
    many=True,
)
_SIZE = El(
    "size",
    (
        *_ids("id", "qty", "preorder", "description", "comment", "sku", "ean"),
        El("warehouseitems", (El("warehouse", _ids("id", "qty", "cog"), many=True),)),
    ),
    many=True,
)
_VARIATION = El(
    "variation",
    (
        *_ids("id", "stockid", "description", "sku", "status"),
        El("sizetable", _IDDESC),
        El("sizes", (_SIZE,)),
        El("displays", (_DISPLAY,)),
        El("cog"),
    ),
    many=True,
)
PRODUCT = El(
    "product",
    (
        *_ids("id", "status", "sku", "description"),
        El("folder", _IDDESC),
        El("brand", _IDDESC),
        El("collection", _IDDESC),
        El("harmcode", _IDDESC),
        El("countryoforigin"),
        El("weight", _ids("value", "unit")),
        El("variations", (_VARIATION,)),
        El("media", (El("image", (El("id"), El("image"), El("variation", _IDDESC)), many=True),)),
        El(
            "metadata",
            (
                El(
                    "storemeta",
                    _ids(
                        "shortdescription",
                        "description",
                        "metatitle",
                        "metakeywords",
                        "metadescription",
                        "taxgroup",
                        "store",
                    ),
                    many=True,
                ),
            ),
        ),
        El("comment"),
    ),
    many=True,
)
CUSTOMER = El(
    "customer",
    _ids(
        "id",
        "store",
        "type",
        "status",
        "firstname",
        "lastname",
        "address1",
        "address2",
        "city",
        "state",
        "zipcode",
        "country",
        "email",
        "telephone",
    ),
    many=True,
)
_MARKET_FILTER = El("market", _IDDESC, many=True)


# orders_Update (§5; centra-next.md §1.1): the REF element order, which the cookbook follows.
def _fee(name: str) -> El:
    return El(name, _ids("subtotal", "description", "key", "id"))


_ADDRESS = _ids(
    "id",
    "description",
    "company",
    "attn",
    "firstname",
    "lastname",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "email",
    "telephone",
    "fax",
    "vat",
    "url",
    "companyregistrationid",
)
_CARRIER = _ids("carrier", "service", "account", "taxid", "tracking", "packages")
_ORDER_SIZE = El(
    "size",
    (
        *_ids("id", "sku", "qty", "preorder", "description"),
        El("orderitem", _IDDESC),
        El("warehouseitems", (El("warehouse", _ids("id", "qty"), many=True),)),
        El("supplierorderitems", (El("supplierorder", _ids("id", "qty", "eta"), many=True),)),
    ),
    many=True,
)
_ORDER_LINE = El(
    "product",
    (
        *_ids("id", "tax", "sku", "origprice", "price", "discount", "qty", "subtotal"),
        El("description"),
        El("variation", _IDDESC),
        El("brand", _IDDESC),
        El("sizes", (_ORDER_SIZE,)),
        El("type"),
        El("comment"),
        El("bundleinfo", (El("isbundle"), El("partof", (El("product", _ids("id")),)))),
    ),
    many=True,
)
_REFUND = El(
    "refund",
    (
        El("id"),
        _fee("shipping"),
        _fee("voucher"),
        El("products", (_ORDER_LINE,)),
        El("comment"),
        _fee("returnfee"),
        _fee("handling"),
        El("status"),
        El("type"),
    ),
    many=True,
)
_SHIPMENT = El(
    "shipment",
    (
        *_ids("id", "paid", "shipped", "goodtogo", "capture", "appendix", "shipmenttotal"),
        *_ids("paidtotal", "currency", "currencyrate", "basecurrency", "created"),
        El("shippingaddress", _ADDRESS),
        El("carrierinformation", _CARRIER),
        El("products", (_ORDER_LINE,)),
        El("refunds", (_REFUND,)),
        _fee("shipping"),
        _fee("handling"),
        _fee("voucher"),
    ),
    many=True,
)
_SALESREP = El(
    "salesrep",
    (
        *_ids("id", "email", "name", "percent"),
        El("mastersalesrep", (El("salesrep", _ids("id", "percent"), many=True),)),
    ),
)
ORDER = El(
    "order",
    (
        *_ids("id", "ordernumber", "type", "store", "locked", "status", "ordertotal"),
        *_ids("currency", "currencyrate", "basecurrency", "created", "internal"),
        El("preferred_shipping_date"),
        El("buyer", _ids("id", "description", "firstname", "lastname", "email")),
        _SALESREP,
        El("mastersalesrep", (El(_SALESREP.name, _SALESREP.children, many=True),)),
        El("account", _IDDESC),
        El("paymentterms", _IDDESC),
        El("shippingterms", _IDDESC),
        El("deliverywindow", _ids("id", "description", "type", "atonce", "start", "stop")),
        El("collection", _IDDESC),
        El("additionals", (El("additional", _ids("key", "value"), many=True),)),
        El("primary_warehouse", (El("warehouse", _IDDESC),)),
        _fee("shipping"),
        _fee("handling"),
        _fee("voucher"),
        El(
            "payments",
            (
                *_ids("name", "type", "total", "status", "method"),
                El(
                    "payment",
                    _ids("type", "paid", "value", "created", "transaction", "document"),
                    many=True,
                ),
            ),
        ),
        El("products", (_ORDER_LINE,)),
        El("cancelled", (_ORDER_LINE,)),
        El("shipments", (_SHIPMENT,)),
        El("carrierinformation", _CARRIER),
        El("customer", _IDDESC),
        El("shippingaddress", _ADDRESS),
        El("billingaddress", _ADDRESS),
        *_ids("internalinformation", "other", "ponumber"),
        El("market", _IDDESC),
        El("pricelist", _IDDESC),
        El("ecvatno"),
    ),
    many=True,
)
#: (container path, earlier, later): where the cookbook sends two elements against REF order
#: (centra-next.md §1.2): <status> before <locked> in the confirm request, <status> before
#: <products> in the refund. Both orders pass.
CROSSED = {
    ("orders/order", "status", "locked"),
    ("orders/order/shipments/shipment/refunds/refund", "status", "products"),
}

# pricelists_Update (centra-next.md §2.1, §2.2): prices at product or variation level only.
_PRICES = _ids("price", "priceb", "alteredprice", "alteredpriceb")
PRICELIST = El(
    "pricelist",
    (
        *_ids("id", "store", "type", "currency", "description"),
        El(
            "items",
            (
                El(
                    "product",
                    (El("id"), *_PRICES, El("variation", (El("id"), *_PRICES), many=True)),
                    many=True,
                ),
            ),
        ),
    ),
    many=True,
)

#: Operation element → what follows <login> (the payload part of each request).
OPERATIONS: dict[str, tuple[El, ...]] = {
    "events_GetRequest": (El("type"),),
    "events_GetByMarkets": (El("type"), El("markets", (_MARKET_FILTER,))),
    "events_Done": (El("event", many=True),),
    "products_Update": (El("products", (PRODUCT,)),),
    "customers_Update": (El("customers", (CUSTOMER,)),),
    "orders_Update": (El("orders", (ORDER,)),),
    "pricelists_Update": (El("pricelists", (PRICELIST,)),),
}
#: Containers that must hold at least one item (1..n in §2.1, §3, §4).
NON_EMPTY = {
    "markets": "market",
    "products": "product",
    "customers": "customer",
    "orders": "order",
    "pricelists": "pricelist",
}


def soap_action(namespace: str, operation: str) -> str:
    """The SOAPAction header value for ``operation`` (§1.2), quotes included."""
    name = "events_Get" if operation == "events_GetRequest" else operation
    return f'"{namespace}{name[0].upper()}{name[1:]}"'


# --- recorded state ---------------------------------------------------------------------------


@dataclass
class QueuedEvent:
    """One event waiting in Centra's queue."""

    event_id: int
    type: str
    entry: str
    #: The child of <data>, written with the ``ns1:`` prefix.
    payload_xml: str
    mission: str = "update"
    date: str = CAPTURE_DATE
    #: Market id the event belongs to, for events_GetByMarkets.
    market: str | None = None
    #: Extra XML placed between <date> and <data> (a field the docs do not know yet).
    extra_xml: str = ""


@dataclass
class RecordedRequest:
    """One HTTP request as the double saw it, with what it answered."""

    flavor: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    operation: str = ""
    #: (username, password) from <login>, or from Basic auth on navision/api.
    login: tuple[str, str] | None = None
    #: Every text leaf after <login>, as ("customers/customer/id", "4711"), in document order.
    fields: list[tuple[str, str]] = field(default_factory=list)
    status: int = 0
    response_body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


@dataclass
class UpdateAnswer:
    """A scripted ``result`` for the next update or events_Done."""

    success: bool = True
    errors: Sequence[str] = ()
    notices: Sequence[str] = ()


class ContractViolation(Exception):
    """The request broke the documented wire contract."""


# --- the double -------------------------------------------------------------------------------


class CentraDouble:
    """An HTTP server on 127.0.0.1 speaking Centra's three SOAP endpoints."""

    def __init__(
        self,
        username: str = "erp-user",
        password: str = "s3cret!",  # noqa: S107
        *,
        navision_api_login: str = "basic",
        events_done_answer: str = "result",
    ) -> None:
        self.username = username
        self.password = password
        #: How events_Done is answered, which no capture shows: one of EVENTS_DONE_ANSWERS.
        self.events_done_answer = events_done_answer
        #: How navision/api expects the login: "basic" (the project's default) or "body".
        self.navision_api_login = navision_api_login
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        #: Ids acknowledged through events_Done, in arrival order (unknown ids included).
        self.done_ids: list[str] = []
        #: Scripted answers for the next updates / events_Done, used first-in first-out.
        self.update_answers: list[UpdateAnswer] = []
        #: Scripted (faultcode, faultstring) for the next request of any kind.
        self.next_faults: list[tuple[str, str]] = []
        #: Scripted raw answers (status, body, extra headers), used before anything else.
        self.next_raw: list[tuple[int, bytes, dict[str, str]]] = []
        #: When set to an unset Event, every answer waits for it (to provoke client timeouts).
        self.hold: threading.Event | None = None
        self._queue: dict[int, QueuedEvent] = {}
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        #: A short poll keeps ``stop`` quick; shutdown waits for the serve loop's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # lifecycle
    def start(self) -> CentraDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def url(self, flavor: str = "soap") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{FLAVORS[flavor].path}"

    # queue
    def enqueue(self, *events: QueuedEvent) -> None:
        with self._lock:
            for event in events:
                self._queue[event.event_id] = event

    def queued_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._queue)

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    # request handling (called from server threads)
    def handle(self, record: RecordedRequest) -> tuple[int, bytes, dict[str, str]]:
        """Check the request, then answer: scripted answers first, then login, then the op."""
        flavor = FLAVORS[record.flavor]
        try:
            op = self._check_request(flavor, record)
        except ContractViolation as exc:
            record.violations.append(str(exc))
            return 500, fault_envelope(flavor.namespace, "SOAP-ENV:Client", str(exc)), {}
        if self.hold is not None:
            self.hold.wait(timeout=10)
        if self.next_raw:
            return self.next_raw.pop(0)
        if self.next_faults:
            code, text = self.next_faults.pop(0)
            return 500, fault_envelope(flavor.namespace, code, text), {}
        if record.login != (self.username, self.password):
            # Invented: Centra's docs never show a refused login (§6.3, U4). A Client Fault is
            # what PHP's SoapServer would send for a request it rejects; Basic auth gets a 401.
            text = "Login failed: unknown username or wrong password"
            if self.login_mode(flavor) == "basic":
                return (
                    401,
                    fault_envelope(flavor.namespace, "SOAP-ENV:Client", text),
                    {"WWW-Authenticate": 'Basic realm="Centra"'},
                )
            return 500, fault_envelope(flavor.namespace, "SOAP-ENV:Client", text), {}
        return 200, self._answer(flavor, op), {}

    def login_mode(self, flavor: Flavor) -> str:
        """ "body" or "basic" for ``flavor``, honouring the navision/api setting."""
        return self.navision_api_login if flavor.name == "navision-api" else flavor.login

    def _check_request(self, flavor: Flavor, record: RecordedRequest) -> etree._Element:
        check_http(flavor, record)
        op = parse_envelope(flavor, record.body)
        name = etree.QName(op).localname
        record.operation = name
        expected = soap_action(flavor.namespace, name)
        if record.headers.get("soapaction") != expected:
            raise ContractViolation(
                f"SOAPAction must be {expected} for {name} (§1.2), got "
                f"{record.headers.get('soapaction')!r}"
            )
        children = list(op)
        if self.login_mode(flavor) == "body":
            record.login = check_login(name, children)
            children = children[1:]
        else:
            if children and etree.QName(children[0]).localname == "login":
                raise ContractViolation(
                    f"{name}: navision/api requests carry no <login> in the body (§1.1); "
                    "credentials travel as HTTP Basic auth"
                )
            record.login = basic_auth(record.headers.get("authorization", ""))
        check_sequence(name, children, OPERATIONS[name], "", record.fields)
        check_content(name, op)
        return op

    def _answer(self, flavor: Flavor, op: etree._Element) -> bytes:
        name = etree.QName(op).localname
        ns = {"c": flavor.namespace}
        if name in ("events_GetRequest", "events_GetByMarkets"):
            wanted = op.findtext("c:type", namespaces=ns) or ""
            markets = None
            if name == "events_GetByMarkets":
                markets = {
                    m.findtext("c:id", namespaces=ns)
                    for m in op.iterfind("c:markets/c:market", namespaces=ns)
                }
            return events_envelope(flavor.namespace, self._window(wanted, markets))
        if name == "events_Done":
            with self._lock:
                for event in op.iterfind("c:event", namespaces=ns):
                    self.done_ids.append(event.text or "")
                    if (event.text or "").isdigit():
                        # Unknown or already-done ids are ignored (§8 U3).
                        self._queue.pop(int(event.text or ""), None)
        if name == "events_Done" and self.events_done_answer != "result":
            return _envelope(flavor.namespace, EVENTS_DONE_ANSWERS[self.events_done_answer])
        answer = self.update_answers.pop(0) if self.update_answers else UpdateAnswer()
        return result_envelope(flavor.namespace, answer)

    def _window(self, wanted: str, markets: set[str | None] | None) -> list[QueuedEvent]:
        with self._lock:
            chosen = [
                e
                for _, e in sorted(self._queue.items())
                if wanted in ("all", e.type) and (markets is None or e.market in markets)
            ]
        return chosen[:PAGE_SIZE]


# --- checks -----------------------------------------------------------------------------------


def check_http(flavor: Flavor, record: RecordedRequest) -> None:
    """Method, content type and parse-ability of the HTTP layer (§1.2)."""
    if record.method != "POST":
        raise ContractViolation(f"SOAP calls are POSTed (§1.2), got {record.method}")
    ctype = record.headers.get("content-type", "")
    msg = Message()
    msg["content-type"] = ctype
    if msg.get_content_type() != "text/xml" or (msg.get_param("charset") or "").lower() != "utf-8":
        raise ContractViolation(
            f"Content-Type must be 'text/xml; charset=utf-8' (SOAP 1.1, §1.2), got {ctype!r}"
        )


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=False,
)


def parse_envelope(flavor: Flavor, body: bytes) -> etree._Element:
    """The single operation element of a SOAP 1.1 envelope, checked for document/literal."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ContractViolation(f"request body is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ContractViolation("request carries a DOCTYPE; SOAP messages must not")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise ContractViolation(
            f"root must be {{{SOAP_ENV}}}Envelope (SOAP 1.1, §1.2), got {root.tag}"
        )
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if f"{{{SOAP_ENV}}}encodingStyle" in el.attrib:
            raise ContractViolation(
                f"encodingStyle on {el.tag}: the binding is document/literal (§1.2)"
            )
        for attr in (f"{{{XSI}}}type", f"{{{XSI}}}nil"):
            if attr in el.attrib:
                raise ContractViolation(
                    f"{etree.QName(attr).localname} on {el.tag}: document/literal carries no "
                    "xsi:type, and a nil element would blank a field that should stay absent "
                    "(§1.2, §4.1)"
                )
    parts = [c for c in root if isinstance(c.tag, str)]
    names = [c.tag for c in parts]
    if names not in ([f"{{{SOAP_ENV}}}Body"], [f"{{{SOAP_ENV}}}Header", f"{{{SOAP_ENV}}}Body"]):
        raise ContractViolation(f"Envelope must hold [Header] Body, got {names}")
    body_children = [c for c in parts[-1] if isinstance(c.tag, str)]
    if len(body_children) != 1:
        raise ContractViolation(
            f"Body must hold exactly one element (document/literal), got {len(body_children)}"
        )
    op = body_children[0]
    qname = etree.QName(op)
    if qname.namespace != flavor.namespace:
        raise ContractViolation(
            f"operation element {qname.localname} must be in {flavor.namespace} "
            f"(§1.1), got {qname.namespace!r}"
        )
    if qname.localname == "events_Get":
        raise ContractViolation(
            "events_Get is the response element; the request element is events_GetRequest (§1.3)"
        )
    if qname.localname not in OPERATIONS:
        raise ContractViolation(f"operation {qname.localname} is not served by this double")
    for el in op.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace != flavor.namespace:
            raise ContractViolation(
                f"<{el.tag}> inside {qname.localname} is not qualified in {flavor.namespace} "
                "(elementFormDefault=qualified, §1.2)"
            )
    return op


def check_login(operation: str, children: list[etree._Element]) -> tuple[str, str]:
    """<login><username/><password/></login> as the first child (§1.1, §2.1)."""
    if not children or etree.QName(children[0]).localname != "login":
        first = etree.QName(children[0]).localname if children else "nothing"
        raise ContractViolation(
            f"{operation}: <login> must be the first child of the operation element (§1.1), "
            f"found {first}"
        )
    login = children[0]
    names = [etree.QName(c).localname for c in login]
    if names != ["username", "password"]:
        raise ContractViolation(
            f"{operation}: <login> must hold username then password (§1.1), got {names}"
        )
    return (login[0].text or "", login[1].text or "")


def basic_auth(header: str) -> tuple[str, str] | None:
    """(user, password) from an HTTP Basic ``Authorization`` header, or None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def check_sequence(
    where: str,
    children: list[etree._Element],
    schema: tuple[El, ...],
    path: str,
    fields: list[tuple[str, str]],
) -> None:
    """Children known, in schema order, repeated only where allowed; recurse into each."""
    order = [s.name for s in schema]
    last = -1
    for child in children:
        name = etree.QName(child).localname
        if name not in order:
            raise ContractViolation(
                f"{where}: unexpected element <{name}>; allowed here, in order: {order}"
            )
        index = order.index(name)
        spec = schema[index]
        crossed = last >= 0 and (path, order[last], name) in CROSSED
        if (index < last and not crossed) or (index == last and not spec.many):
            raise ContractViolation(
                f"{where}: <{name}> out of order or repeated; the documented order is {order}"
            )
        last = max(last, index)
        check_element(f"{where}/{name}", child, spec, f"{path}/{name}" if path else name, fields)
    item = NON_EMPTY.get(path)
    if item and not any(etree.QName(c).localname == item for c in children):
        raise ContractViolation(f"{where}: needs at least one <{item}>")


def check_element(
    where: str, el: etree._Element, spec: El, path: str, fields: list[tuple[str, str]]
) -> None:
    """A text leaf holds no elements; a container holds no text."""
    kids = [c for c in el if isinstance(c.tag, str)]
    if spec.children is None:
        if kids:
            raise ContractViolation(f"{where}: holds elements but is a text field")
        fields.append((path, el.text or ""))
        return
    if (el.text or "").strip() or any((c.tail or "").strip() for c in kids):
        raise ContractViolation(f"{where}: holds text but is a container")
    check_sequence(where, kids, spec.children, path, fields)


def check_content(operation: str, op: etree._Element) -> None:
    """Per-operation value rules: a known ``type``, non-empty ids."""
    for child in op:
        name = etree.QName(child).localname
        if name == "type" and (child.text or "") not in EVENT_TYPES:
            raise ContractViolation(
                f"{operation}: <type> must be one of {sorted(EVENT_TYPES)} (§2.1), "
                f"got {child.text!r}"
            )
        if name == "event" and not (child.text or "").strip():
            raise ContractViolation(f"{operation}: empty <event>; send event ids (§3)")
    if operation == "events_GetRequest" and not any(etree.QName(c).localname == "type" for c in op):
        raise ContractViolation("events_GetRequest: <type> is required (§2.1)")
    if operation == "events_GetByMarkets":
        names = [etree.QName(c).localname for c in op]
        for required in ("type", "markets"):
            if required not in names:
                raise ContractViolation(f"events_GetByMarkets: <{required}> is required (§2.1)")
        for market in op.iter(f"{{{etree.QName(op).namespace}}}market"):
            if not (market.findtext(f"{{{etree.QName(op).namespace}}}id") or "").strip():
                raise ContractViolation("events_GetByMarkets: every <market> needs an <id> (§2.1)")
    if operation == "events_Done" and not any(etree.QName(c).localname == "event" for c in op):
        raise ContractViolation("events_Done: at least one <event> id is required (§3)")
    if operation == "orders_Update":
        check_orders(op)


def check_orders(op: etree._Element) -> None:
    """What every cookbook write-back carries (centra-next.md §1.1): ``id``, ``type`` and
    ``store``; and cancelled or shipped rows addressed by ``orderitem`` with a ``qty``."""
    ns = {"c": etree.QName(op).namespace or ""}
    for order in op.iterfind("c:orders/c:order", namespaces=ns):
        for required in ("id", "type", "store"):
            if not (order.findtext(f"c:{required}", namespaces=ns) or "").strip():
                raise ContractViolation(
                    f"orders_Update: every <order> sends <{required}> (centra-next.md §1.1)"
                )
        rows = [
            *order.iterfind("c:cancelled/c:product/c:sizes/c:size", namespaces=ns),
            *order.iterfind(
                "c:shipments/c:shipment/c:products/c:product/c:sizes/c:size", namespaces=ns
            ),
        ]
        for row in rows:
            for required in ("qty", "orderitem/c:id"):
                if not (row.findtext(f"c:{required}", namespaces=ns) or "").strip():
                    raise ContractViolation(
                        "orders_Update: a cancelled or shipped row needs <qty> and "
                        "<orderitem><id> (centra-next.md §1.1)"
                    )


# --- answers, shaped like the captures (§2.2, §6.1) -------------------------------------------

_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _envelope(namespace: str, body: str) -> bytes:
    return (
        f'{_PROLOG}<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{namespace}">'
        f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    ).encode()


def event_xml(event: QueuedEvent) -> str:
    """One <ns1:event> as the captures show it."""
    return (
        "<ns1:event>"
        f"<ns1:id>{event.event_id}</ns1:id>"
        f"<ns1:type>{escape(event.type)}</ns1:type>"
        f"<ns1:entry>{escape(event.entry)}</ns1:entry>"
        f"<ns1:mission>{escape(event.mission)}</ns1:mission>"
        f"<ns1:date>{escape(event.date)}</ns1:date>"
        f"{event.extra_xml}"
        f"<ns1:data>{event.payload_xml}</ns1:data>"
        "</ns1:event>"
    )


def events_envelope(namespace: str, events: Sequence[QueuedEvent]) -> bytes:
    """``ns1:events_Get`` for both events_Get and events_GetByMarkets (§1.3)."""
    if not events:
        return _envelope(namespace, "<ns1:events_Get><ns1:events/></ns1:events_Get>")
    inner = "".join(event_xml(e) for e in events)
    return _envelope(
        namespace, f"<ns1:events_Get><ns1:events>{inner}</ns1:events></ns1:events_Get>"
    )


def _messages(tag: str, messages: Sequence[str]) -> str:
    if not messages:
        return f"<ns1:{tag}/>"
    inner = "".join(f"<ns1:message>{escape(m)}</ns1:message>" for m in messages)
    return f"<ns1:{tag}>{inner}</ns1:{tag}>"


#: events_Done's answer, undocumented (U3): the assumed ``result``, or the body the generated
#: reference renders (``eventsDoneResponse`` OK, unqualified), or an empty response element.
EVENTS_DONE_ANSWERS = {
    "result": "",
    "eventsDoneResponse": "<eventsDoneResponse>OK</eventsDoneResponse>",
    "empty": "<ns1:events_DoneResponse/>",
}


def result_envelope(namespace: str, answer: UpdateAnswer) -> bytes:
    """``ns1:result`` as captured for updates (§6.1); assumed for events_Done (U3)."""
    success = "true" if answer.success else "false"
    return _envelope(
        namespace,
        f"<ns1:result><ns1:success>{success}</ns1:success>"
        f"{_messages('errors', answer.errors)}{_messages('notices', answer.notices)}</ns1:result>",
    )


def fault_envelope(namespace: str, code: str, text: str) -> bytes:
    """A SOAP 1.1 Fault as PHP's SoapServer writes one (inferred, §6.3)."""
    return _envelope(
        namespace,
        f"<SOAP-ENV:Fault><faultcode>{escape(code)}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring></SOAP-ENV:Fault>",
    )


# --- payload fixtures -------------------------------------------------------------------------


def _template(name: str) -> Template:
    return Template((CAPTURES / name).read_text(encoding="utf-8"))


def retail_order(
    order: str,
    *,
    customer: str = "5501",
    market: str = "Retail-DE",
    extra_order: str = "",
    extra_line: str = "",
    extra_size: str = "",
) -> str:
    """A retail order modelled on the captured DTC order event (§5); ``extra_*`` insert XML."""
    return _template("retail_order.xml").substitute(
        order=order,
        customer=customer,
        market=market,
        extra_order=extra_order,
        extra_line=extra_line,
        extra_size=extra_size,
    )


def wholesale_order(order: str, *, market: str = "Wholesale-US") -> str:
    """A pending wholesale order modelled on the captured events_GetByMarkets answer (§5)."""
    return _template("wholesale_order.xml").substitute(order=order, market=market)


def customer(customer_id: str) -> str:
    """A customer payload shaped like customers_Update's <customer> (§4.3, inferred)."""
    return _template("customer.xml").substitute(customer=customer_id)


def order_event(event_id: int, order: str, *, wholesale: bool = False, **kw: str) -> QueuedEvent:
    """An order event whose entry is the order number, as in the captures."""
    market = kw.pop("market", "Wholesale-US" if wholesale else "Retail-DE")
    payload = (
        wholesale_order(order, market=market)
        if wholesale
        else retail_order(order, market=market, **kw)
    )
    return QueuedEvent(event_id, "order", order, payload, market=market)


# --- HTTP plumbing ----------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up (timeout tests, refused oversized answers) is not a server error."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler_for(double: CentraDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner: ClassVar[CentraDouble] = double

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: ClassVar[CentraDouble]
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet; requests are recorded instead."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, _query = self.path.partition("?")
        flavor = next((f for f in FLAVORS.values() if f.path == path), None)
        record = RecordedRequest(
            flavor=flavor.name if flavor else "",
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        if flavor is None:
            record.violations.append(f"no Centra endpoint at {path}")
            status, payload, extra = 404, b"", {}
        elif self.command == "GET" and _query.lower() == "wsdl":
            # Centra serves the WSDL here, but none is public; a client must bring its own.
            record.violations.append("client fetched ?wsdl; the double has no WSDL to serve")
            status, payload, extra = 404, b"", {}
        elif "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            record.violations.append("chunked request bodies are not read by this double")
            status, payload, extra = 411, b"", {}
        else:
            status, payload, extra = self.owner.handle(record)
        self._send(record, status, payload, extra)

    def _send(
        self, record: RecordedRequest, status: int, payload: bytes, extra: dict[str, str]
    ) -> None:
        request_id = f"1_{secrets.token_hex(16)}"
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "Content-Length": str(len(payload)),
            "Expires": "Thu, 19 Nov 1981 08:52:00 GMT",
            "Pragma": "no-cache",
            "X-Centra-Request-ID": request_id,
            "X-Correlation-ID": f"centra_{request_id}",
            **extra,
        }
        record.status = status
        record.response_body = payload
        record.response_headers = headers
        with self.owner._lock:
            self.owner.requests.append(record)
            self.owner.violations.extend(record.violations)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)


def iter_violations(double: CentraDouble) -> Iterator[str]:
    """Every violation with the operation it came from, for assertion messages."""
    for record in double.requests:
        for violation in record.violations:
            yield f"{record.flavor} {record.operation or record.path}: {violation}"

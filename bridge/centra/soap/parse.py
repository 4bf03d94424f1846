"""Centra's SOAP answers → records. Pure: status and bytes in, records or a CentraError out.

Answers are read with lxml directly rather than through zeep: zeep's objects cost about 30 times
the parse and drop elements the WSDL does not declare, while Centra adds fields without notice
(centra-soap.md §7.2). Elements are matched by namespace and local name, never by prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from bridge.centra.errors import (
    CentraAuthError,
    CentraError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.centra.port import Event, EventPage, Payload, UpdateResult
from bridge.centra.soap.payload import element_value, local_name
from bridge.centra.soap.redact import mask_xml
from bridge.centra.soap.schema import Node, Schema

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_ENVELOPE = f"{{{SOAP_ENV_NS}}}Envelope"
_BODY = f"{{{SOAP_ENV_NS}}}Body"
_FAULT = f"{{{SOAP_ENV_NS}}}Fault"
#: How a refusal of the bridge's own login reads (faultstring or result errors). Centra's
#: docs show none (centra-soap.md U4), so these are the phrasings of such refusals, not the
#: mere words: "the customer's password is too short" is a business error, not a bad login.
_LOGIN_REFUSED = re.compile(
    r"\b(?:login|log-in|sign-in|authentication|authori[sz]ation)\s+(?:failed|refused|denied"
    r"|invalid|incorrect|required)\b"
    r"|\b(?:invalid|wrong|incorrect|bad|unknown)\s+(?:login|username|user\s?name|password"
    r"|credentials?|api\s?key)\b"
    r"|\bnot\s+(?:authenticated|authori[sz]ed|logged\s+in)\b"
    r"|\bunauthori[sz]ed\b|\baccess\s+denied\b",
    re.IGNORECASE,
)
_MAX_DETAIL = 200


def _parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers must not be shared between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def body_element(body: bytes, *, request_id: str | None = None) -> etree._Element:
    """The element inside the SOAP Body; CentraProtocolError for anything else."""
    if not body.strip():
        raise CentraProtocolError("Centra sent an empty answer", request_id=request_id)
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise CentraProtocolError(
            f"Centra's answer is not XML: {str(exc)[:_MAX_DETAIL]}", request_id=request_id
        ) from exc
    docinfo = root.getroottree().docinfo
    # lxml-stubs do not declare DocInfo.doctype, which lxml has had since 2.2.
    if docinfo.doctype or docinfo.internalDTD is not None:  # type: ignore[union-attr]
        raise CentraProtocolError(
            "Centra's answer carries a DOCTYPE, which SOAP forbids; refused", request_id=request_id
        )
    if root.tag != _ENVELOPE:
        raise CentraProtocolError(
            f"Centra's answer is not a SOAP 1.1 envelope (root {root.tag})", request_id=request_id
        )
    soap_body = next((child for child in root if child.tag == _BODY), None)
    content = None if soap_body is None else _first_element(soap_body)
    if content is None:
        raise CentraProtocolError("Centra's answer has an empty SOAP body", request_id=request_id)
    return content


def check_reply(
    status: int,
    body: bytes,
    *,
    request_id: str | None = None,
    retry_after_s: float | None = None,
) -> etree._Element:
    """The body element of a usable answer, or the CentraError the status and body call for.

    ``retry_after_s`` is what the answer's ``Retry-After`` asked for; an unavailable Centra
    carries it, so the next try waits at least that long.
    """
    if status in (401, 403):
        fault = _fault_or_none(body, request_id)
        detail = f": {fault.args[0]}" if fault is not None else ""
        raise CentraAuthError(
            f"Centra refused the login (HTTP {status}){detail}",
            code=f"HTTP {status}",
            request_id=request_id,
        )
    if not 200 <= status < 300:
        fault = _fault_or_none(body, request_id)
        if fault is not None:
            raise fault
        if status >= 500 or status == 429:
            raise CentraUnavailable(
                f"Centra answered HTTP {status} without a SOAP Fault",
                status_code=status,
                request_id=request_id,
                retry_after_s=retry_after_s,
            )
        raise CentraProtocolError(
            f"Centra answered HTTP {status} without a SOAP Fault", request_id=request_id
        )
    element = body_element(body, request_id=request_id)
    if element.tag == _FAULT:
        raise fault_error(element, request_id=request_id)
    return element


def _fault_or_none(body: bytes, request_id: str | None) -> CentraFault | None:
    try:
        element = body_element(body, request_id=request_id)
    except CentraProtocolError:
        return None
    return fault_error(element, request_id=request_id) if element.tag == _FAULT else None


def fault_error(fault: etree._Element, *, request_id: str | None = None) -> CentraFault:
    """A SOAP 1.1 Fault as CentraFault, or CentraAuthError when it is about the login."""
    # faultcode and faultstring are unqualified in SOAP 1.1; accept them qualified as well.
    fields = {
        local_name(child.tag): (child.text or "").strip()
        for child in fault
        if isinstance(child.tag, str)
    }
    code = fields.get("faultcode", "").rpartition(":")[2]
    message = fields.get("faultstring", "") or "SOAP Fault without a faultstring"
    kind = CentraAuthError if is_login_refusal(message) else CentraFault
    return kind(f"Centra SOAP Fault {code or '?'}: {message}", code=code, request_id=request_id)


def _expect(element: etree._Element, name: str, ns: str, request_id: str | None) -> None:
    if element.tag != f"{{{ns}}}{name}":
        raise CentraProtocolError(
            f"expected {name} in {ns}, Centra sent {element.tag}", request_id=request_id
        )


def _required_child(
    element: etree._Element, name: str, ns: str, request_id: str | None
) -> etree._Element:
    found = _child(element, name, ns)
    if found is None:
        raise CentraProtocolError(
            f"{etree.QName(element).localname} has no <{name}>", request_id=request_id
        )
    return found


def parse_event_page(
    element: etree._Element, schema: Schema, *, raw: bytes, request_id: str | None = None
) -> EventPage:
    """An ``events_Get`` answer as an EventPage: each event's fields and its XML as sent,
    buyers' passwords masked (in the events and in the raw answer).

    The payload inside ``<data>`` is not read here (see ``event_payload``): a page is stored
    and acknowledged before any handler needs it. One broken event never costs its
    neighbours: an event without ``<id>`` is left out and described in ``unreadable``; one
    without ``<type>`` comes with type "".
    """
    ns = schema.namespace
    if element.tag == f"{{{ns}}}result":
        raise _refusal(parse_result(element, schema, raw=raw, request_id=request_id))
    _expect(element, "events_Get", ns, request_id)
    container = _required_child(element, "events", ns, request_id)
    event_node = _event_node(schema)
    events: list[Event] = []
    unreadable: list[str] = []
    for position, el in enumerate(_children(container, "event", ns), start=1):
        event = _event(el, event_node)
        if event.event_id:
            events.append(event)
        else:
            unreadable.append(f"event #{position} of the page has no <id>: {event.xml[:500]}")
    return EventPage(events=events, raw=mask_xml(raw), request_id=request_id, unreadable=unreadable)


def _event_node(schema: Schema) -> Node:
    return schema.element("events_Get").child("events/event")


def _event(el: etree._Element, node: Node) -> Event:
    fields: dict[str, etree._Element] = {}
    for child in el:
        # by_tag holds the declared children, qualified in the service namespace or bare.
        declared = node.by_tag.get(child.tag)
        if declared is not None and declared.name not in fields:
            fields[declared.name] = child

    def text(name: str) -> str:
        found = fields.get(name)
        return "" if found is None else (found.text or "").strip()

    data = fields.get("data")
    content = None if data is None else _first_element(data)
    return Event(
        event_id=text("id"),
        type=text("type"),
        entry=text("entry"),
        mission=text("mission"),
        date=text("date"),
        payload_kind="" if content is None else local_name(content.tag),
        xml=mask_xml(etree.tostring(el, encoding="unicode", with_tail=False)),
    )


def event_payload(xml: str, schema: Schema) -> Payload:
    """The child of a stored event's ``<data>`` as a dict; {} when it has none.

    Read from the XML the drain stored, so a replay after an upgrade reads every event with
    the current rules. Every element is kept, declared in the WSDL or not. Raises
    CentraProtocolError when ``xml`` is not one well-formed element.
    """
    try:
        el = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        raise CentraProtocolError(
            f"stored event XML is not well-formed: {str(exc)[:_MAX_DETAIL]}"
        ) from exc
    # By local name: an event stored from another flavor's endpoint reads the same.
    data = _by_local_name(el, "data")
    content = None if data is None else _first_element(data)
    if content is None:
        return {}
    kinds = _event_node(schema).children["data"].node.children
    declared = kinds.get(local_name(content.tag))
    value = element_value(content, declared.node if declared else None)
    return value if isinstance(value, dict) else {}


def parse_result(
    element: etree._Element, schema: Schema, *, raw: bytes, request_id: str | None = None
) -> UpdateResult:
    """Centra's shared ``result`` answer (events_Done, every ``*_Update``) as an UpdateResult."""
    ns = schema.namespace
    _expect(element, "result", ns, request_id)
    success = _required_child(element, "success", ns, request_id)
    return UpdateResult(
        success=(success.text or "").strip().lower() in ("true", "1"),
        errors=_messages(_child(element, "errors", ns)),
        notices=_messages(_child(element, "notices", ns)),
        request_id=request_id,
        raw=raw,
    )


def parse_acknowledgement(
    element: etree._Element, schema: Schema, *, raw: bytes, request_id: str | None = None
) -> tuple[UpdateResult, str | None]:
    """events_Done's answer, and the name of its root element when it is not ``result``.

    No capture of this answer exists (centra-soap.md §3, U3). Centra's ``result`` is read as
    for the updates (``success=false`` stays a refusal), also when it comes inside a response
    wrapper. Any other element of a well-formed answer without a Fault (the generated
    reference's ``<eventsDoneResponse>OK``, an empty ``<events_DoneResponse/>``) counts as
    done, unless its text says something other than OK: Centra answered, and acknowledging
    twice is harmless, whereas refusing every such answer would fail every poll.
    """
    if local_name(element.tag) == "result":
        return parse_result(element, schema, raw=raw, request_id=request_id), None
    shape = local_name(element.tag)
    nested = next(
        (el for el in element.iter() if isinstance(el.tag, str) and local_name(el.tag) == "result"),
        None,
    )
    if nested is not None:
        return _result_by_local_names(nested, request_id, raw), shape
    text = "".join(str(part) for part in element.itertext()).strip()
    if text and text.lower() not in _DONE_WORDS:
        refusal = f"events_Done answered <{shape}> with {text[:_MAX_DETAIL]!r}"
        return UpdateResult(success=False, errors=[refusal], request_id=request_id, raw=raw), shape
    return UpdateResult(success=True, request_id=request_id, raw=raw), shape


#: What an undocumented events_Done answer may say and still mean "done".
_DONE_WORDS = frozenset({"ok", "true", "1", "success"})


def _result_by_local_names(
    result: etree._Element, request_id: str | None, raw: bytes
) -> UpdateResult:
    """A ``result`` inside another element, its namespace whatever the wrapper's was."""
    success = _by_local_name(result, "success")
    return UpdateResult(
        success=success is not None and (success.text or "").strip().lower() in ("true", "1"),
        errors=_messages(_by_local_name(result, "errors")),
        notices=_messages(_by_local_name(result, "notices")),
        request_id=request_id,
        raw=raw,
    )


def is_login_refusal(message: str) -> bool:
    """Whether Centra's ``message`` says the bridge's login was refused (pause, exit 3)."""
    return _LOGIN_REFUSED.search(message) is not None


def check_login(result: UpdateResult) -> UpdateResult:
    """Return ``result``, unless it is a refusal of the login itself: that raises."""
    if not result.success and any(is_login_refusal(message) for message in result.errors):
        raise _refusal(result)
    return result


def _refusal(result: UpdateResult) -> CentraError:
    """A ``result`` where an answer was expected: Centra refused the call on purpose."""
    if result.success:
        return CentraProtocolError(
            "Centra answered with a successful result instead of data", request_id=result.request_id
        )
    message = "; ".join(result.errors) or "no error message"
    kind = CentraAuthError if is_login_refusal(message) else CentraFault
    return kind(f"Centra refused the call: {message}", code="result", request_id=result.request_id)


def _messages(container: etree._Element | None) -> list[str]:
    if container is None:
        return []
    return [
        "".join(str(text) for text in child.itertext()).strip()
        for child in container
        if isinstance(child.tag, str)
    ]


def _child(parent: etree._Element, name: str, ns: str) -> etree._Element | None:
    return next(_children(parent, name, ns), None)


def _children(parent: etree._Element, name: str, ns: str) -> Iterator[etree._Element]:
    wanted = (f"{{{ns}}}{name}", name)
    return (child for child in parent if child.tag in wanted)


def _by_local_name(parent: etree._Element, name: str) -> etree._Element | None:
    """The first child named ``name`` in any namespace (comments skipped)."""
    return next(
        (el for el in parent if isinstance(el.tag, str) and local_name(el.tag) == name), None
    )


def _first_element(parent: etree._Element) -> etree._Element | None:
    return next((child for child in parent if isinstance(child.tag, str)), None)

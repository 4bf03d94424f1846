"""Faults the simulator can inject: the ways a real Centra, or the network to it, goes wrong.

A ``FaultPlan`` is a list of ``Fault`` specs, each firing on some operations, at some rate, a
limited number of times. Installed into a simulator (``Simulator.inject``) it answers requests
before the simulator does (HTTP errors, hangs, hostile XML) or replaces the answer after the
simulator acted (an events_Done whose answer is lost after the events were removed).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bridge.simulator.app import LOGIN_FAILED, Reply, Request, fault
from bridge.simulator.soap import result_reply

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
_HTML_ERROR = b"<html><head><title>%d</title></head><body><h1>%d</h1>nginx</body></html>"
#: Far larger than a real page of 100 events (a few hundred KB), above the default cap of 50 MB.
HUGE_ANSWER_BYTES = 64 * 1024 * 1024
UPDATE_ERROR = "Simulated rejection: the object was refused"


@dataclass(frozen=True, slots=True)
class Fault:
    """One kind of trouble, where and how often it strikes."""

    kind: str
    #: Operation names it strikes ("events_Get", "events_Done", "products_Update"…); () = all.
    operations: tuple[str, ...] = ()
    #: Chance per matching request, 0..1.
    rate: float = 1.0
    #: How many times at most (None: no limit).
    times: int | None = None
    #: Seconds, for "latency" (added to each answer) and "hang" (held at most this long).
    delay_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(sorted(KINDS))}")
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be within 0..1, got {self.rate}")

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """``KIND[:OPERATION[,OPERATION…][:RATE[:TIMES]]]``, e.g. ``http-503:events_Get:0.2``."""
        kind, operations, rate, times = ([*spec.split(":"), "", "", ""])[:4]
        return cls(
            kind=kind,
            operations=tuple(op for op in operations.split(",") if op),
            rate=float(rate) if rate else 1.0,
            times=int(times) if times else None,
        )

    def matches(self, operation: str) -> bool:
        return not self.operations or operation in self.operations


class FaultPlan:
    """Decides, request by request, which fault strikes; counts what it did."""

    def __init__(self, faults: list[Fault], *, seed: int = 0) -> None:
        self.faults = faults
        #: How often each kind struck.
        self.fired: Counter[str] = Counter()
        self._struck = [0] * len(faults)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def bind(self, stopping: threading.Event) -> None:
        """Let hanging requests go when the simulator stops."""
        self._stopping = stopping

    def _strikes(self, index: int, operation: str) -> bool:
        fault_ = self.faults[index]
        with self._lock:
            if not fault_.matches(operation):
                return False
            if fault_.times is not None and self._struck[index] >= fault_.times:
                return False
            if self._rng.random() >= fault_.rate:
                return False
            self._struck[index] += 1
            self.fired[fault_.kind] += 1
            return True

    def before(self, request: Request) -> Reply | None:
        """Answer instead of the simulator, or None to let it answer."""
        for index, fault_ in enumerate(self.faults):
            action = _BEFORE.get(fault_.kind)
            if action is not None and self._strikes(index, request.operation):
                reply = action(self, fault_, request)
                if reply is not None:
                    return reply
        return None

    def after(self, request: Request, reply: Reply) -> Reply:
        """Replace the simulator's answer once it has acted on the request."""
        for index, fault_ in enumerate(self.faults):
            action = _AFTER.get(fault_.kind)
            if action is not None and self._strikes(index, request.operation):
                reply = action(fault_, request, reply)
        return reply

    def _latency(self, fault_: Fault, request: Request) -> None:
        self._stopping.wait(1.0 if fault_.delay_s is None else fault_.delay_s)

    def _hang(self, fault_: Fault, request: Request) -> Reply:
        """Accept the request and say nothing until the client gives up (or we stop)."""
        self._stopping.wait(3600.0 if fault_.delay_s is None else fault_.delay_s)
        return _html_error(503)


class Hold:
    """A fault hook holding every call of one operation until released: a Centra slow at will,
    for tests that act while a call is in flight (a SIGKILL, a SIGTERM, a stalled watchdog).

    ``armed`` False holds nothing until ``armed.set()``; once released, calls go through and
    are answered by the simulator, or by ``then`` for the calls that were held.
    """

    def __init__(
        self,
        operation: str,
        *,
        then: Reply | None = None,
        armed: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        self.operation = operation
        self.then = then
        self.timeout_s = timeout_s
        self.armed = threading.Event()
        self.arrived = threading.Event()
        self.released = threading.Event()
        if armed:
            self.armed.set()

    def __call__(self, request: Request) -> Reply | None:
        if request.operation != self.operation or not self.armed.is_set() or self.released.is_set():
            return None
        self.arrived.set()
        self.released.wait(self.timeout_s)
        return self.then

    def release(self) -> None:
        self.released.set()


def _http_error(status: int) -> Callable[[FaultPlan, Fault, Request], Reply]:
    def answer(plan: FaultPlan, fault_: Fault, request: Request) -> Reply:
        return _html_error(status)

    return answer


def _events_page(request: Request, doctype: str, id_text: str) -> bytes:
    ns = request.flavor.namespace
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ns1="{ns}"><SOAP-ENV:Body><ns1:events_Get><ns1:events><ns1:event>'
        f"<ns1:id>{id_text}</ns1:id><ns1:type>order</ns1:type><ns1:entry>1</ns1:entry>"
        "<ns1:mission>update</ns1:mission><ns1:date>2019-03-27 12:52:20</ns1:date>"
        "<ns1:data><ns1:order><ns1:id>1</ns1:id></ns1:order></ns1:data>"
        "</ns1:event></ns1:events></ns1:events_Get></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def _hostile(doctype: str, id_text: str) -> Callable[[FaultPlan, Fault, Request], Reply]:
    def answer(plan: FaultPlan, fault_: Fault, request: Request) -> Reply:
        return Reply(200, _events_page(request, doctype, id_text))

    return answer


_LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))


def _html_error(status: int) -> Reply:
    return Reply(status, _HTML_ERROR % (status, status), HTML_CONTENT_TYPE)


def _huge(plan: FaultPlan, fault_: Fault, request: Request) -> Reply:
    padding = b"<ns1:events>" + b" " * HUGE_ANSWER_BYTES
    return Reply(200, _events_page(request, "", "1").replace(b"<ns1:events>", padding))


def _done_ignored(plan: FaultPlan, fault_: Fault, request: Request) -> Reply | None:
    """events_Done answered "success" while the events stay queued."""
    if request.operation != "events_Done":
        return None
    return Reply(200, result_reply(request.flavor.namespace, True))


def _update_rejected(plan: FaultPlan, fault_: Fault, request: Request) -> Reply | None:
    if not request.operation.endswith("_Update"):
        return None
    return Reply(200, result_reply(request.flavor.namespace, False, [UPDATE_ERROR]))


def _done_lost(fault_: Fault, request: Request, reply: Reply) -> Reply:
    """events_Done acted on (the events are gone), but its answer never arrives."""
    return _html_error(503) if request.operation == "events_Done" else reply


def _reset(fault_: Fault, request: Request, reply: Reply) -> Reply:
    return Reply(
        reply.status, reply.body, reply.content_type, reply.fault, cut_after=len(reply.body) // 2
    )


def _truncated(fault_: Fault, request: Request, reply: Reply) -> Reply:
    return Reply(reply.status, reply.body[: len(reply.body) // 2], reply.content_type, reply.fault)


_BEFORE: dict[str, Callable[[FaultPlan, Fault, Request], Reply | None]] = {
    "latency": FaultPlan._latency,
    "hang": FaultPlan._hang,
    "http-429": _http_error(429),
    "http-500": _http_error(500),
    "http-502": _http_error(502),
    "http-503": _http_error(503),
    "soap-fault": lambda *_: fault("Internal error: database gone away", "SOAP-ENV:Server"),
    "bad-login": lambda *_: fault(LOGIN_FAILED),
    "malformed": lambda *_: Reply(200, b'<?xml version="1.0"?><SOAP-ENV:Envelope><ns1:'),
    "huge": _huge,
    "xxe": _hostile('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
    "billion-laughs": _hostile(f'<!DOCTYPE x [<!ENTITY l0 "ha">{_LAUGHS}]>', "&l9;"),
    "external-dtd": _hostile('<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">', "1"),
    "done-ignored": _done_ignored,
    "update-rejected": _update_rejected,
}

_AFTER: dict[str, Callable[[Fault, Request, Reply], Reply]] = {
    "reset": _reset,
    "truncated": _truncated,
    "done-lost": _done_lost,
}

#: Every fault kind, for ``simulate --fault`` and error messages.
KINDS = frozenset(_BEFORE) | frozenset(_AFTER)

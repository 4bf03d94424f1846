"""Faults the GraphQL double can inject, beside its switches for 429, ``errors[]`` and an
expired token: the network's trouble and answers that cannot be trusted, as the SOAP
simulator's ``FaultPlan`` has them, in JSON instead of XML.

A fault strikes requests of one operation (``events``, ``confirmEvents``…; None for all),
a number of times. "Before" kinds answer instead of the double; "after" kinds change the
answer once the double acted (a ``confirmEvents`` whose answer is lost after the events were
confirmed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Far larger than a page of 100 events, above the client's default cap of 50 MB.
HUGE_ANSWER_BYTES = 64 * 1024 * 1024
_HTML_ERROR = b"<html><head><title>%d</title></head><body><h1>%d</h1>nginx</body></html>"

#: Kinds answered instead of the double.
BEFORE = frozenset({"http-500", "http-502", "http-503", "hang", "latency", "malformed", "huge"})
#: Kinds that change the double's own answer.
AFTER = frozenset({"reset", "truncated", "confirm-lost"})
#: ``confirmEvents`` answers that it confirmed the events, and keeps them queued.
CONFIRM_IGNORED = "confirm-ignored"
KINDS = BEFORE | AFTER | {CONFIRM_IGNORED}


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer; ``cut_after`` closes the connection short of its Content-Length."""

    status: int
    body: bytes
    content_type: str = "application/json"
    cut_after: int | None = None


@dataclass
class GraphqlFault:
    kind: str
    operation: str | None = None
    times: int = 1
    #: Seconds, for "latency" (added to the answer) and "hang" (held at most this long).
    delay_s: float = 1.0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(sorted(KINDS))}")

    def strikes(self, operation: str) -> bool:
        """Whether it strikes this request (counted when it does)."""
        if self.fired >= self.times or self.operation not in (None, operation):
            return False
        self.fired += 1
        return True


def before(fault: GraphqlFault, stopping: threading.Event) -> Answer | None:
    """The answer instead of the double's, or None to let it answer (after a delay)."""
    if fault.kind.startswith("http-"):
        status = int(fault.kind.removeprefix("http-"))
        return Answer(status, _HTML_ERROR % (status, status), "text/html; charset=utf-8")
    if fault.kind == "hang":
        stopping.wait(fault.delay_s)
        return Answer(503, _HTML_ERROR % (503, 503), "text/html; charset=utf-8")
    if fault.kind == "latency":
        stopping.wait(fault.delay_s)
        return None
    if fault.kind == "malformed":
        return Answer(200, b'{"data": {"events": [{"id": 1, "objectType": ')
    if fault.kind == "huge":
        return Answer(200, b'{"data": {"events": []}, "padding": "' + b" " * HUGE_ANSWER_BYTES)
    return None


def after(fault: GraphqlFault, answer: Answer) -> Answer:
    """The double's answer as the fault leaves it."""
    if fault.kind == "reset":
        return Answer(answer.status, answer.body, answer.content_type, len(answer.body) // 2)
    if fault.kind == "truncated":
        return Answer(answer.status, answer.body[: len(answer.body) // 2], answer.content_type)
    if fault.kind == "confirm-lost":
        return Answer(503, _HTML_ERROR % (503, 503), "text/html; charset=utf-8")
    return answer

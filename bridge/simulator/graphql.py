"""A Centra GraphQL Integration API double over real HTTP (``simulate --flavor graphql``).

Built from the documented shapes (centra-next.md §3): listeners, the events queue with the
SOAP queue's head-of-queue semantics (the oldest unconfirmed events, the same ones until
confirmed), ``confirmEvents`` naming what it confirmed, live object lookups (an event's
``object`` is the object now; null once deleted), Bearer tokens, and switches for 429 with
``Retry-After`` in each form, an expired token and ``errors[]`` on HTTP 200. Queries run
through graphql-core against the schema in ``graphql_schema``.
"""

from __future__ import annotations

import io
import json
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from types import FrameType, TracebackType
from typing import Any
from wsgiref.simple_server import make_server

import graphql

from bridge.simulator import graphql_faults
from bridge.simulator.data import Generator
from bridge.simulator.graphql_faults import Answer, GraphqlFault
from bridge.simulator.graphql_objects import graphql_object, graphql_type
from bridge.simulator.graphql_schema import LOOKED_UP, SDL
from bridge.simulator.server import DEFAULT_HOST, _QuietHandler, _ThreadingServer

DEFAULT_TOKEN = "demo-graphql-token"  # noqa: S105 (the simulator's published demo token)
INTEGRATION = "centra-bridge"
#: Events per page when the query gives no ``limit`` (Centra's default is unknown, N6).
DEFAULT_LIMIT = 100
#: The forms Centra's "timestamp" in ``Retry-After`` may take (N8).
RETRY_AFTER_FORMS = ("delta", "epoch", "http-date")
_NOW = "2024-09-02T08:00:00+00:00"


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    id: int
    object_type: str
    change_type: str
    reference: int
    created_at: str
    store_id: int | None


@dataclass(frozen=True, slots=True)
class GraphqlCall:
    """One request as the double saw it: its operation name, arrival (epoch s), answer."""

    operation: str
    at: float
    status: int


@dataclass
class _State:
    """Everything behind one lock; ``changed`` is notified on every change."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    pending: dict[int, QueuedEvent] = field(default_factory=dict)
    objects: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    listeners: dict[str, set[str]] = field(default_factory=dict)
    confirmed: list[int] = field(default_factory=list)
    calls: list[GraphqlCall] = field(default_factory=list)
    next_id: int = 1
    #: Switches: 429s left to answer (and how ``Retry-After`` reads), errors[] left to answer.
    throttle: list[tuple[str, float]] = field(default_factory=list)
    failures: int = 0
    token_expired: bool = False
    #: When each 429 said requests may resume (epoch seconds).
    resume_at: list[float] = field(default_factory=list)
    faults: list[GraphqlFault] = field(default_factory=list)
    #: Set while a "confirm-ignored" fault answers: confirmEvents then keeps the events.
    keep_confirmed: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)


class GraphqlSimulator:
    """The double, served on loopback; usage as ``bridge.simulator.Simulator``."""

    def __init__(
        self, *, token: str = DEFAULT_TOKEN, seed: int = 1, host: str = DEFAULT_HOST, port: int = 0
    ) -> None:
        self.token = token
        self._host, self._port = host, port
        self._state = _State()
        self._generator = Generator(seed)
        self._schema = _schema(self._state)
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GraphqlSimulator:
        server = make_server(
            self._host,
            self._port,
            self._app,
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self._server, self._port = server, server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="centra-graphql-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> GraphqlSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The instance's ``/graphql``."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        return f"http://{self._host}:{self._port}/graphql"

    # -- the queue ---------------------------------------------------------------------------

    def add_generated(self, count: int) -> list[int]:
        """Queue ``count`` events of the seeded stream ``Simulator.add_generated`` queues."""
        return [
            self.add_event(e.type, e.payload, entry=e.entry, mission=e.mission, date=e.date)
            for e in self._generator.generate(count)
        ]

    def add_event(
        self,
        soap_type: str,
        payload: dict[str, Any],
        *,
        entry: str,
        mission: str = "update",
        date: str = _NOW,
    ) -> int:
        """Queue one event of the SOAP kind ``soap_type``; its object becomes ``payload``."""
        kind, reference = graphql_type(soap_type), int(entry)
        with self._state.changed:
            key = (kind, reference)
            if mission == "delete":
                change = "DELETED"
                self._state.objects.pop(key, None)
            else:
                change = "UPDATED" if key in self._state.objects else "CREATED"
                self._state.objects[key] = graphql_object(kind, payload)
            store = payload.get("store")
            event = QueuedEvent(
                self._state.next_id,
                kind,
                change,
                reference,
                date,
                int(store) if isinstance(store, str) and store.isdigit() else None,
            )
            self._state.pending[event.id] = event
            self._state.next_id += 1
            self._state.changed.notify_all()
        return event.id

    def queue(self) -> list[int]:
        """Ids not yet confirmed, oldest first (listened to or not)."""
        with self._state.changed:
            return list(self._state.pending)

    @property
    def confirmed(self) -> list[int]:
        with self._state.changed:
            return list(self._state.confirmed)

    @property
    def listeners(self) -> dict[str, set[str]]:
        with self._state.changed:
            return {kind: set(changes) for kind, changes in self._state.listeners.items()}

    @property
    def calls(self) -> list[GraphqlCall]:
        with self._state.changed:
            return list(self._state.calls)

    @property
    def resume_at(self) -> list[float]:
        """When each 429 answered so far said requests may resume (epoch seconds)."""
        with self._state.changed:
            return list(self._state.resume_at)

    # -- switches ----------------------------------------------------------------------------

    def throttle(self, times: int, seconds: float, form: str = "delta") -> None:
        """Answer the next ``times`` requests with 429, ``Retry-After`` ``seconds`` ahead."""
        if form not in RETRY_AFTER_FORMS:
            raise ValueError(f"form must be one of {', '.join(RETRY_AFTER_FORMS)}")
        with self._state.changed:
            self._state.throttle.extend([(form, seconds)] * times)

    def fail(self, times: int) -> None:
        """Answer the next ``times`` requests with HTTP 200 and ``errors[]``."""
        with self._state.changed:
            self._state.failures += times

    def inject(
        self, kind: str, operation: str | None = None, *, times: int = 1, delay_s: float = 1.0
    ) -> GraphqlFault:
        """Strike the next ``times`` requests of ``operation`` (None: any) with a fault of
        ``graphql_faults.KINDS``; the fault counts how often it ``fired``."""
        fault = GraphqlFault(kind, operation, times, delay_s)
        with self._state.changed:
            self._state.faults.append(fault)
        return fault

    def expire_token(self, expired: bool = True) -> None:
        with self._state.changed:
            self._state.token_expired = expired

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.changed.wait(min(remaining, 0.05))
        return True

    # -- HTTP --------------------------------------------------------------------------------

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer, headers = self._faulty(environ)
        start_response(
            f"{answer.status} {_REASONS[answer.status]}",
            [
                ("Content-Type", answer.content_type),
                ("Content-Length", str(len(answer.body))),
                *headers,
            ],
        )
        if answer.cut_after is not None:
            # HTTP/1.0: the connection closes after this, short of its Content-Length.
            return [answer.body[: answer.cut_after]]
        return [answer.body]

    def _faulty(self, environ: dict[str, Any]) -> tuple[Answer, list[tuple[str, str]]]:
        """The double's answer, unless an injected fault answers instead or changes it."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        operation = _operation_of(environ["wsgi.input"].getvalue())
        with self._state.changed:
            striking = [f for f in self._state.faults if f.strikes(operation)]
        for fault in striking:
            if fault.kind in graphql_faults.BEFORE:
                instead = graphql_faults.before(fault, self._state.stopping)
                if instead is not None:
                    self._record(operation, time.time(), instead.status, [], b"")
                    return instead, []
        keep = any(f.kind == graphql_faults.CONFIRM_IGNORED for f in striking)
        with self._state.changed:
            self._state.keep_confirmed = keep
            try:
                status, headers, body = self._answer(environ)
            finally:
                self._state.keep_confirmed = False
        answer = Answer(status, body)
        for fault in striking:
            if fault.kind in graphql_faults.AFTER:
                answer = graphql_faults.after(fault, answer)
        return answer, headers

    def _answer(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        arrived = time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            document = graphql.parse(request.get("query") or "")
            operation = next(
                (
                    d.name.value
                    for d in document.definitions
                    if isinstance(d, graphql.OperationDefinitionNode) and d.name
                ),
                "?",
            )
        except (ValueError, graphql.GraphQLError) as exc:
            return self._record("?", arrived, 400, [], _errors(f"bad request: {exc}"))
        with self._state.changed:
            if environ.get("PATH_INFO") != "/graphql" or environ["REQUEST_METHOD"] != "POST":
                return self._record(operation, arrived, 404, [], _errors("POST /graphql"))
            if self._state.throttle:
                form, seconds = self._state.throttle.pop(0)
                resume, header = _retry_after(form, seconds, arrived)
                self._state.resume_at.append(resume)
                return self._record(
                    operation, arrived, 429, [("Retry-After", header)], _errors("Too Many Requests")
                )
            if environ.get("HTTP_AUTHORIZATION") != f"Bearer {self.token}":
                return self._record(
                    operation, arrived, 200, [], _errors("Invalid access token", "authorization")
                )
            if self._state.token_expired:
                return self._record(
                    operation, arrived, 401, [], _errors("Access token expired", "authorization")
                )
            if self._state.failures:
                self._state.failures -= 1
                return self._record(operation, arrived, 200, [], _errors("Internal server error"))
            result = graphql.execute_sync(
                self._schema, document, variable_values=request.get("variables")
            )
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [error.formatted for error in result.errors]
            body["extensions"] = {"complexity": 10, "permissionsUsed": ["Event:read"]}
            self._state.changed.notify_all()
            return self._record(operation, arrived, 200, [], json.dumps(body).encode())

    def _record(
        self, operation: str, at: float, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._state.changed:
            self._state.calls.append(GraphqlCall(operation, at, status))
            self._state.changed.notify_all()
        return status, headers, body


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _operation_of(raw: bytes) -> str:
    """The request's operation name, "?" when it has none or cannot be read."""
    try:
        document = graphql.parse(json.loads(raw or b"{}").get("query") or "")
    except (ValueError, AttributeError, graphql.GraphQLError):
        return "?"
    return next(
        (
            d.name.value
            for d in document.definitions
            if isinstance(d, graphql.OperationDefinitionNode) and d.name
        ),
        "?",
    )


def _retry_after(form: str, seconds: float, now: float) -> tuple[float, str]:
    """(when requests may resume, the header saying so); whole seconds, rounded up."""
    resume = math.ceil(now + seconds)
    if form == "delta":
        return resume, str(resume - math.floor(now))
    if form == "epoch":
        return resume, str(resume)
    return resume, formatdate(resume, usegmt=True)


def _errors(message: str, category: str = "internal") -> bytes:
    error = {"message": message, "extensions": {"category": category}}
    return json.dumps({"errors": [error]}).encode()


def _schema(state: _State) -> graphql.GraphQLSchema:
    """The schema with the double's resolvers; every resolver runs under ``state``'s lock."""
    schema = graphql.build_schema(SDL)

    def events(
        _: Any, info: Any, where: dict[str, Any] | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        where = where or {}
        kinds, changes = where.get("objectType"), where.get("changeType")
        found: list[dict[str, Any]] = []
        for event in state.pending.values():
            if len(found) == (limit or DEFAULT_LIMIT):
                break
            if event.object_type not in state.listeners:
                continue
            if (kinds and event.object_type not in kinds) or (
                changes and event.change_type not in changes
            ):
                continue
            found.append(_event(state, event))
        return found

    def confirm(_: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        done, warnings = [], []
        for event_id in input["eventsIds"]:
            event = state.pending.get(event_id) if state.keep_confirmed else None
            event = event or state.pending.pop(event_id, None)
            if event is None:
                warnings.append(
                    {
                        "message": f"event {event_id} is unknown or confirmed already",
                        "path": ["eventsIds"],
                    }
                )
            else:
                if not state.keep_confirmed:
                    state.confirmed.append(event_id)
                done.append(_event(state, event))
        return {"events": done, "userErrors": [], "userWarnings": warnings}

    def set_listeners(_: Any, info: Any, input: list[dict[str, Any]]) -> dict[str, Any]:
        for item in input:
            changes = item.get("changeTypes") or [
                "CREATED",
                "UPDATED",
                "COMPLETED",
                "DELETED",
                "DEPENDENT_DATA_CHANGED",
            ]
            state.listeners.setdefault(item["objectType"], set()).update(changes)
        return {"eventListeners": list_listeners(None, info), "userErrors": [], "userWarnings": []}

    def unset_listeners(_: Any, info: Any, input: list[dict[str, Any]]) -> dict[str, Any]:
        for item in input:
            kind = item["objectType"]
            state.listeners.pop(kind, None)
            for event_id in [i for i, e in state.pending.items() if e.object_type == kind]:
                del state.pending[event_id]
        return {"eventListeners": list_listeners(None, info), "userErrors": [], "userWarnings": []}

    def list_listeners(_: Any, info: Any) -> list[dict[str, Any]]:
        return [
            {
                "integrationName": INTEGRATION,
                "objectType": kind,
                "changeTypes": sorted(changes),
                "createdAt": _NOW,
                "updatedAt": _NOW,
            }
            for kind, changes in sorted(state.listeners.items())
        ]

    query, mutation = schema.query_type, schema.mutation_type
    assert query is not None and mutation is not None
    query.fields["events"].resolve = events
    query.fields["eventListeners"].resolve = list_listeners
    mutation.fields["confirmEvents"].resolve = confirm
    mutation.fields["setEventListeners"].resolve = set_listeners
    mutation.fields["unsetEventListeners"].resolve = unset_listeners
    return schema


def _event(state: _State, event: QueuedEvent) -> dict[str, Any]:
    """The event with its object as it is now: live, not as it was (§3.6)."""
    obj = state.objects.get((event.object_type, event.reference))
    if obj is None and event.object_type not in LOOKED_UP and event.change_type != "DELETED":
        obj = {"__typename": "OtherObject", "id": str(event.reference)}
    return {
        "id": event.id,
        "objectType": event.object_type,
        "changeType": event.change_type,
        "objectReference": event.reference,
        "createdAt": event.created_at,
        "store": {"id": event.store_id} if event.store_id is not None else None,
        "market": None,
        "object": obj,
    }


def serve(host: str, port: int, events: int, seed: int, token: str) -> None:
    """Run the GraphQL double until SIGINT or SIGTERM (``simulate --flavor graphql``)."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with GraphqlSimulator(token=token, seed=seed, host=host, port=port) as sim:
            sim.add_generated(events)
            print(f"Centra GraphQL simulator listening on {sim.url}", flush=True)
            print(f"  token: {token}  queued {events} events", flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

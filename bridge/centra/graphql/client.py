"""GraphqlClient: the ``CentraPort`` over Centra's GraphQL Integration API events.

Listeners are set once per connection, before the first fetch (``setEventListeners`` only
adds, so repeating it is harmless); ``events(limit: 100)`` fetches the oldest unconfirmed
events, the same ones until ``confirmEvents`` confirms them (centra-next.md §3.5, §3.7).
Every error is mapped to the ``bridge.centra.errors`` tree in one place, ``_post``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import requests
import structlog

from bridge.centra.errors import (
    CentraAuthError,
    CentraError,
    CentraFault,
    CentraProtocolError,
    CentraUnavailable,
)
from bridge.centra.graphql.documents import CONFIRM_EVENTS, EVENTS, SET_EVENT_LISTENERS
from bridge.centra.graphql.kinds import bridge_type, object_type
from bridge.centra.graphql.payload import mask, mask_raw
from bridge.centra.http import (
    REQUEST_ID_HEADER,
    USER_AGENT,
    read_capped,
    read_environment_once,
    tell,
)
from bridge.centra.port import CallObserver, Event, EventPage, Payload, UpdateResult
from bridge.clock import utcnow
from bridge.config import GRAPHQL, CentraSettings, ConfigError
from bridge.retry import parse_retry_after

log = structlog.get_logger(__name__)

TRANSPORT = GRAPHQL
#: Events asked for per fetch; Centra's default and maximum are unknown (N6), and the
#: drain takes a shorter page for an empty queue.
PAGE_LIMIT = 100
CONNECT_TIMEOUT_S = 10.0
_REDACTED = "********"
#: Error categories Centra gives a refused or expired token (AUTHZ sample: "authorization").
_AUTH_CATEGORIES = frozenset({"authorization", "authentication"})
_MAX_DETAIL = 300
#: What to do about a refused token (centra-next.md §3.3: tokens expire, by default after
#: 30 days, and can be revoked; they need Event:read and Event:write).
RENEW_HINT = (
    "an expired or revoked token needs a new one: AMS, System → API Tokens, for the same "
    "integration name, with Event:read, Event:write and read access to the objects listened to"
)

#: Told what Centra keeps listening to after ``setEventListeners``: object type → change types.
ListenersObserver = Callable[[dict[str, list[str]]], None]


class GraphqlClient:
    """One connection to one Centra's ``/graphql``, for the queue of the token's integration."""

    def __init__(
        self,
        settings: CentraSettings,
        listen: Sequence[str],
        *,
        session: requests.Session | None = None,
        observe: CallObserver | None = None,
        on_listeners: ListenersObserver | None = None,
    ) -> None:
        """``listen``: the object types to listen to (``kinds.listener_types``);
        ``on_listeners`` hears Centra's ``eventListeners`` once they are set."""
        self.settings = settings
        self.listen = list(listen)
        self._observe = observe
        self._on_listeners = on_listeners
        #: Calls made, per operation name (attempts, failed ones included).
        self.calls: Counter[str] = Counter()
        self._listening = False
        #: No request leaves before this ``time.monotonic()`` value (a 429's Retry-After).
        self._resume_at = 0.0
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            read_environment_once(session, settings.endpoint)
        self._session = session

    def __repr__(self) -> str:
        return f"GraphqlClient(endpoint={self.settings.endpoint!r})"

    def get_events(
        self, event_type: str | None = None, markets: Sequence[str] | None = None
    ) -> EventPage:
        """The oldest (at most 100) unconfirmed events, ordered by id (N7)."""
        self._ensure_listeners()
        data, raw, request_id = self._post(
            "events", EVENTS, {"where": self._filter(event_type, markets), "limit": PAGE_LIMIT}
        )
        found = data.get("events")
        if not isinstance(found, list):
            raise CentraProtocolError("Centra's events answer has no list", request_id=request_id)
        events: list[Event] = []
        unreadable: list[str] = []
        for position, item in enumerate(found, start=1):
            event = _event(item)
            if event is None:
                unreadable.append(f"event #{position} of the page has no id: {str(item)[:500]}")
            else:
                events.append(event)
        events.sort(key=lambda e: int(e.event_id))
        return EventPage(
            events=events,
            raw=mask_raw(raw),
            request_id=request_id,
            operation="events",
            unreadable=unreadable,
            transport=TRANSPORT,
            state_at_fetch=True,
        )

    def acknowledge(self, event_ids: Sequence[str]) -> UpdateResult:
        """One ``confirmEvents``; success only if Centra lists every id as confirmed, or
        warns about those it does not (ids it confirmed before: N6)."""
        if not event_ids:
            return UpdateResult(success=True)
        data, raw, request_id = self._post(
            "confirmEvents", CONFIRM_EVENTS, {"ids": [int(i) for i in event_ids]}
        )
        answer = data.get("confirmEvents") or {}
        errors = _messages(answer.get("userErrors"))
        warnings = _messages(answer.get("userWarnings"))
        confirmed = {str(e.get("id")) for e in answer.get("events") or [] if isinstance(e, dict)}
        for warning in warnings:
            log.warning("Centra warns about confirmed events", warning=warning)
        missing = [i for i in event_ids if i not in confirmed]
        if missing and not warnings:
            errors.append(
                f"Centra confirmed {len(event_ids) - len(missing)} of {len(event_ids)} events; "
                f"not {', '.join(missing[:10])}"
            )
        return UpdateResult(
            success=not errors, errors=errors, notices=warnings, request_id=request_id, raw=raw
        )

    def send_updates(self, entity_type: str, items: Sequence[Payload]) -> UpdateResult:
        """Not over GraphQL yet: Centra's writes there are one mutation per action (§3.10)."""
        raise push_unsupported()

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> GraphqlClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ensure_listeners(self) -> None:
        if self._listening or not self.listen:
            return
        data, _, request_id = self._post(
            "setEventListeners",
            SET_EVENT_LISTENERS,
            {"input": [{"objectType": name} for name in self.listen]},
        )
        answer = data.get("setEventListeners") or {}
        errors = _messages(answer.get("userErrors"))
        if errors:
            raise CentraFault(
                f"Centra refused the event listeners: {'; '.join(errors)}",
                code="userErrors",
                request_id=request_id,
            )
        for warning in _messages(answer.get("userWarnings")):
            log.warning("Centra warns about the event listeners", warning=warning)
        found = answer.get("eventListeners")
        integrations = _integrations(found)
        self._check_integration(integrations, request_id)
        self._listening = True
        listening = _listeners(found)
        log.info(
            "event listeners set",
            integration=", ".join(sorted(integrations)),
            object_types=sorted(listening),
            request_id=request_id,
        )
        if self._on_listeners is not None:
            try:
                self._on_listeners(listening)
            except Exception as exc:  # recording them is for status; polling goes on
                log.warning("could not record the event listeners", exc_info=exc)

    def _check_integration(self, integrations: set[str], request_id: str | None) -> None:
        """Refuse a token of another integration than ``[centra] integration`` names: its
        queue is that integration's, and polling it takes another system's events."""
        wanted = self.settings.integration
        if not wanted or not integrations or integrations == {wanted}:
            return
        raise CentraAuthError(
            f'the API token belongs to integration "{", ".join(sorted(integrations))}", not '
            f'"{wanted}" ([centra] integration): its events queue is not this bridge\'s',
            code="integration",
            request_id=request_id,
        )

    def _filter(self, event_type: str | None, markets: Sequence[str] | None) -> dict[str, Any]:
        kind = self.settings.event_type if event_type is None else event_type
        wanted = self.settings.markets if markets is None else tuple(markets)
        where: dict[str, Any] = {}
        if kind != "all":
            found = object_type(kind)
            if found is None:
                raise ValueError(f"Centra's GraphQL API has no object type for {kind!r}")
            where["objectType"] = [found]
        if wanted:
            if not all(m.isdigit() for m in wanted):
                raise ValueError(f"over GraphQL, markets are Centra's numeric ids: {wanted!r}")
            where["marketId"] = [int(m) for m in wanted]
        return where

    def _post(
        self, operation: str, document: str, variables: dict[str, Any]
    ) -> tuple[dict[str, Any], bytes, str | None]:
        """One request; its ``data``, raw body and request id. Errors mapped here only."""
        self.calls[operation] += 1
        started = time.perf_counter()
        error: Exception | None = None
        outcome: dict[str, Any] = {"outcome": "error"}
        try:
            with self._errors_mapped(outcome):
                self._wait_not_asked()
                timeout_s = self.settings.timeout_s
                response = self._session.post(
                    self.settings.endpoint,
                    data=json.dumps({"query": document, "variables": variables}),
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {self.settings.token.reveal()}",
                        "User-Agent": USER_AGENT,
                    },
                    timeout=(min(CONNECT_TIMEOUT_S, timeout_s), timeout_s),
                    stream=True,
                    allow_redirects=False,
                )
                deadline = time.monotonic() + self.settings.timeout_s
                with response:
                    raw = read_capped(response, self.settings.max_response_bytes, deadline)
                request_id = response.headers.get(REQUEST_ID_HEADER)
                outcome.update(status=response.status_code, bytes=len(raw), request_id=request_id)
                data = self._check(response, raw, request_id)
                outcome["outcome"] = "ok"
                return data, raw, request_id
        except Exception as exc:
            error = exc
            raise
        finally:
            seconds = time.perf_counter() - started
            log.debug("centra.call", operation=operation, ms=round(seconds * 1000, 1), **outcome)
            tell(self._observe, operation, seconds, error)

    def _wait_not_asked(self) -> None:
        """Refuse, without a request, a call Centra asked (429) not to get yet."""
        remaining = self._resume_at - time.monotonic()
        if remaining > 0:
            raise CentraUnavailable(
                f"Centra asked (HTTP 429, Retry-After) to wait {remaining:.1f} s more; not sent",
                status_code=429,
                retry_after_s=remaining,
            )

    def _check(
        self, response: requests.Response, raw: bytes, request_id: str | None
    ) -> dict[str, Any]:
        status = response.status_code
        body = _json_or_none(raw)
        if status in (401, 403):
            detail = "; ".join(_messages(body.get("errors"))) if body else ""
            raise CentraAuthError(
                f"the API token, HTTP {status}{': ' + detail if detail else ''} ({RENEW_HINT})",
                code=f"HTTP {status}",
                request_id=request_id,
            )
        if status == 429 or status >= 500:
            retry_after_s = parse_retry_after(response.headers.get("Retry-After"), utcnow())
            if status == 429 and retry_after_s:
                self._resume_at = time.monotonic() + retry_after_s
            raise CentraUnavailable(
                f"Centra answered HTTP {status}",
                status_code=status,
                request_id=request_id,
                retry_after_s=retry_after_s,
            )
        if not 200 <= status < 300:
            raise CentraProtocolError(f"Centra answered HTTP {status}", request_id=request_id)
        if body is None:
            raise CentraProtocolError(
                f"Centra's answer is not a JSON object: {raw[:_MAX_DETAIL]!r}",
                request_id=request_id,
            )
        errors = body.get("errors")
        if errors:
            raise _graphql_error(errors, request_id)
        data = body.get("data")
        if not isinstance(data, dict):
            raise CentraProtocolError("Centra's answer has no data", request_id=request_id)
        return data

    @contextmanager
    def _errors_mapped(self, outcome: dict[str, Any]) -> Iterator[None]:
        """requests' errors → the CentraError tree; the token is scrubbed from every message."""
        try:
            yield
        except CentraError as exc:
            outcome["error"] = type(exc).__name__
            raise self._scrub(exc) from None
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            outcome["error"] = type(exc).__name__
            raise self._scrub(
                CentraUnavailable(f"Centra unreachable: {type(exc).__name__}: {exc}")
            ) from None
        except requests.RequestException as exc:
            outcome["error"] = type(exc).__name__
            raise self._scrub(
                CentraProtocolError(f"HTTP exchange with Centra failed: {type(exc).__name__}")
            ) from None

    def _scrub(self, exc: CentraError) -> CentraError:
        secret = self.settings.token.reveal()
        if secret:
            exc.args = tuple(
                arg.replace(secret, _REDACTED) if isinstance(arg, str) else arg for arg in exc.args
            )
        return exc


def push_unsupported() -> ConfigError:
    return ConfigError(
        '[centra] flavor = "graphql": sending ERP updates to Centra (push) is not supported '
        "over GraphQL yet; push with a SOAP flavor"
    )


def _event(item: Any) -> Event | None:
    """One event of the page; None without an id (nothing could confirm it)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        return None
    kind = bridge_type(str(item.get("objectType") or ""))
    obj = item.get("object")
    # A deleted object is null (§3.6); so is one deleted since this event was raised.
    gone = item.get("changeType") == "DELETED" or obj is None
    return Event(
        event_id=str(item["id"]),
        type=kind,
        entry=str(item.get("objectReference") or ""),
        mission="delete" if gone else "update",
        date=str(item.get("createdAt") or ""),
        payload_kind="" if obj is None else kind,
        xml=json.dumps(mask(item), ensure_ascii=False),
    )


def _integrations(items: Any) -> set[str]:
    """The ``integrationName`` of each listener (the token's integration)."""
    return {
        item["integrationName"]
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and isinstance(item.get("integrationName"), str)
    }


def _listeners(items: Any) -> dict[str, list[str]]:
    """``eventListeners`` of an answer: object type → its change types."""
    found: dict[str, list[str]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("objectType"), str):
            changes = item.get("changeTypes")
            found[item["objectType"]] = sorted(str(c) for c in changes or [])
    return found


def _graphql_error(errors: Any, request_id: str | None) -> CentraError:
    """``errors[]`` of an HTTP 200 answer: a refused token, or a refused call."""
    items = errors if isinstance(errors, list) else [errors]
    messages = _messages(items) or ["no error message"]
    categories = {
        str((e.get("extensions") or {}).get("category", "")).lower()
        for e in items
        if isinstance(e, dict)
    }
    text = "; ".join(messages)[:_MAX_DETAIL]
    if categories & _AUTH_CATEGORIES:
        return CentraAuthError(
            f"the API token: {text} ({RENEW_HINT})", code="authorization", request_id=request_id
        )
    return CentraFault(f"Centra GraphQL error: {text}", code="errors", request_id=request_id)


def _messages(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        str(item.get("message") or "").strip() or json.dumps(item)[:_MAX_DETAIL]
        for item in items
        if isinstance(item, dict)
    ]


def _json_or_none(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None

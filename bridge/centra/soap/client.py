"""CentraClient: typed calls to Centra's SOAP API; no zeep object and no foreign error leaves it.

Event requests are serialised by zeep from the local WSDL of the configured flavor (so they
follow the contract); ``*_Update`` requests, which carry whole batches of records, are built by
``bridge.centra.soap.serialize`` from the same WSDL at a fraction of zeep's cost and sent over the
same transport with zeep's headers. Answers are read raw, with a byte cap, and parsed by
``bridge.centra.soap.parse``. Every error is mapped to the ``CentraError`` tree in one place,
``CentraClient._exchange``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

import requests
import structlog
import zeep
from lxml import etree
from requests.auth import HTTPBasicAuth

from bridge.centra.errors import CentraError, CentraProtocolError, CentraUnavailable
from bridge.centra.http import REQUEST_ID_HEADER, read_environment_once, tell
from bridge.centra.port import CallObserver, EventPage, Payload, UpdateResult
from bridge.centra.soap.flavors import Flavor, flavor_for, update_wrapper
from bridge.centra.soap.parse import (
    check_login,
    check_reply,
    parse_acknowledgement,
    parse_event_page,
    parse_result,
)
from bridge.centra.soap.schema import load_schema
from bridge.centra.soap.serialize import request_envelope
from bridge.centra.soap.transport import CappedTransport
from bridge.clock import utcnow
from bridge.config import CentraSettings
from bridge.retry import parse_retry_after

log = structlog.get_logger(__name__)

#: Upper bound for establishing the TCP/TLS connection; the read timeout is ``timeout_s``.
CONNECT_TIMEOUT_S = 10.0
_REDACTED = "********"
#: What zeep's SOAP 1.1 binding sends with every request.
_CONTENT_TYPE = "text/xml; charset=utf-8"

T = TypeVar("T")
_Parse = Callable[[etree._Element, bytes, str | None], T]


class CentraClient:
    """One connection to one Centra endpoint.

    The flavor (endpoint kind, namespace, how the login travels) is fixed at construction; see
    ``bridge.centra.soap.flavors.flavor_for`` for the ``navision-api`` login assumption.
    """

    def __init__(
        self,
        settings: CentraSettings,
        *,
        session: requests.Session | None = None,
        observe: CallObserver | None = None,
    ) -> None:
        self.settings = settings
        #: Told of every call as it ends (the daemon's metrics); None tells no one.
        self._observe = observe
        self.flavor: Flavor = flavor_for(settings)
        #: SOAP calls made, per operation name (attempts, failed ones included).
        self.calls: Counter[str] = Counter()
        #: Undocumented events_Done answers seen (each is logged once).
        self._answer_shapes: set[str] = set()
        self._schema = load_schema(self.flavor.wsdl_path)
        self._own_session = session is None
        if session is None:
            session = requests.Session()
            read_environment_once(session, settings.endpoint)
        self._session = session
        auth = None
        if self.flavor.basic_auth:
            auth = HTTPBasicAuth(settings.username, settings.password.reveal())
        self._transport = CappedTransport(
            session=self._session,
            timeout_s=(min(CONNECT_TIMEOUT_S, settings.timeout_s), settings.timeout_s),
            max_bytes=settings.max_response_bytes,
            auth=auth,
        )
        self._zeep = zeep.Client(
            str(self.flavor.wsdl_path),
            transport=self._transport,
            settings=zeep.Settings(
                strict=True,
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
                xml_huge_tree=False,
                raw_response=True,
            ),
        )
        self._service = self._zeep.create_service(self.flavor.binding, settings.endpoint)

    def __repr__(self) -> str:
        return (
            f"CentraClient(endpoint={self.settings.endpoint!r}, flavor={self.flavor.name!r}, "
            f"username={self.settings.username!r})"
        )

    def get_events(
        self, event_type: str | None = None, markets: Sequence[str] | None = None
    ) -> EventPage:
        """The oldest (at most 100) unacknowledged events, oldest first.

        None means the configured ``event_type`` / ``markets``; a non-empty market list uses
        ``events_GetByMarkets``.
        """
        kind = self.settings.event_type if event_type is None else event_type
        wanted = self.settings.markets if markets is None else tuple(markets)
        if wanted:
            by_markets = {"market": [{"id": market} for market in wanted]}
            page = self._call(
                "events_GetByMarkets", self._parse_page, type=kind, markets=by_markets
            )
            return dataclasses.replace(page, operation="events_GetByMarkets")
        return self._call("events_Get", self._parse_page, type=kind)

    def acknowledge(self, event_ids: Sequence[str]) -> UpdateResult:
        """Acknowledge ``event_ids`` with one ``events_Done`` (one ``<event>`` each).

        An empty list makes no call and counts as success.
        """
        if not event_ids:
            return UpdateResult(success=True)
        return self._call(
            "events_Done", self._parse_acknowledgement, event=[str(i) for i in event_ids]
        )

    def send_updates(self, entity_type: str, items: Sequence[Payload]) -> UpdateResult:
        """Send ``items`` with ``<entity_type>s_Update`` (``products_Update`` for "product").

        Raises ValueError naming the key path for a key the WSDL does not declare, before any
        call. A rejected update comes back as ``UpdateResult(success=False)``; only a refused
        login raises. An empty list makes no call and counts as success.
        """
        wrapper = update_wrapper(entity_type)
        operation = f"{wrapper}_Update"
        if operation not in self._schema.elements:
            raise ValueError(f"Centra has no operation {operation}")
        if not items:
            return UpdateResult(success=True)
        message = request_envelope(self._schema, operation, {**self._login(), wrapper: list(items)})
        return self._exchange(operation, self._parse_result, lambda: self._post(operation, message))

    def close(self) -> None:
        """Release the HTTP connections (only those of a session this client created)."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> CentraClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _parse_page(self, element: etree._Element, raw: bytes, request_id: str | None) -> EventPage:
        return parse_event_page(element, self._schema, raw=raw, request_id=request_id)

    def _parse_result(
        self, element: etree._Element, raw: bytes, request_id: str | None
    ) -> UpdateResult:
        return check_login(parse_result(element, self._schema, raw=raw, request_id=request_id))

    def _parse_acknowledgement(
        self, element: etree._Element, raw: bytes, request_id: str | None
    ) -> UpdateResult:
        result, shape = parse_acknowledgement(element, self._schema, raw=raw, request_id=request_id)
        if shape is not None and shape not in self._answer_shapes:
            self._answer_shapes.add(shape)
            log.info(
                "events_Done answered with an element the docs do not show; taken as done",
                answer=shape,
                request_id=request_id,
            )
        return check_login(result)

    def _login(self) -> dict[str, Any]:
        """The ``login`` argument of every call, if this flavor sends it in the body."""
        if not self.flavor.login_in_body:
            return {}
        return {
            "login": {
                "username": self.settings.username,
                "password": self.settings.password.reveal(),
            }
        }

    def _call(self, operation: str, parse: _Parse[T], **arguments: Any) -> T:
        """One SOAP call serialised and sent by zeep, its answer parsed."""
        arguments = {**self._login(), **arguments}
        return self._exchange(
            operation, parse, lambda: getattr(self._service, operation)(**arguments)
        )

    def _post(self, operation: str, message: bytes) -> requests.Response:
        """Send an envelope built here as zeep sends its own: same transport and headers."""
        action = self._zeep.wsdl.bindings[self.flavor.binding].get(operation).soapaction
        headers = {"SOAPAction": f'"{action or ""}"', "Content-Type": _CONTENT_TYPE}
        return self._transport.post(self.settings.endpoint, message, headers)

    def _exchange(
        self, operation: str, parse: _Parse[T], send: Callable[[], requests.Response]
    ) -> T:
        """Send one request and parse the answer; the single place errors are mapped."""
        self.calls[operation] += 1
        started = time.perf_counter()
        outcome: dict[str, Any] = {"outcome": "error"}
        error: Exception | None = None
        try:
            with self._errors_mapped(outcome):
                response = send()
                raw = response.content
                request_id = response.headers.get(REQUEST_ID_HEADER)
                outcome.update(status=response.status_code, bytes=len(raw), request_id=request_id)
                element = check_reply(
                    response.status_code,
                    raw,
                    request_id=request_id,
                    retry_after_s=parse_retry_after(response.headers.get("Retry-After"), utcnow()),
                )
                result = parse(element, raw, request_id)
                outcome["outcome"] = "ok"
                return result
        except Exception as exc:
            error = exc
            raise
        finally:
            seconds = time.perf_counter() - started
            log.debug("centra.call", operation=operation, ms=round(seconds * 1000, 1), **outcome)
            tell(self._observe, operation, seconds, error)

    @contextmanager
    def _errors_mapped(self, outcome: dict[str, Any]) -> Iterator[None]:
        """requests' errors → the CentraError tree, cause kept; the password is scrubbed."""
        try:
            yield
        except CentraError as exc:
            outcome["error"] = type(exc).__name__
            self._scrub(exc)
            raise
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            outcome["error"] = type(exc).__name__
            raise self._scrub(
                CentraUnavailable(f"Centra unreachable: {type(exc).__name__}: {exc}")
            ) from _detached(exc)
        except requests.RequestException as exc:
            outcome["error"] = type(exc).__name__
            raise self._scrub(
                CentraProtocolError(
                    f"HTTP exchange with Centra failed: {type(exc).__name__}: {exc}"
                )
            ) from _detached(exc)

    def _scrub(self, exc: CentraError) -> CentraError:
        """Blank the password out of ``exc``'s message, should anything have echoed it."""
        secret = self.settings.password.reveal()
        if secret:
            exc.args = tuple(
                arg.replace(secret, _REDACTED) if isinstance(arg, str) else arg for arg in exc.args
            )
        return exc


def _detached(exc: requests.RequestException) -> requests.RequestException:
    """``exc`` without the request it carries: its body holds the login."""
    exc.request = None
    return exc

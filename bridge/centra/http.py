"""HTTP with Centra, whatever the API: answers read with a byte cap and a deadline, proxies
and CA bundle read from the environment once. Bodies are never logged."""

from __future__ import annotations

import os
import time

import requests
import structlog
import urllib3

from bridge import __version__
from bridge.centra.errors import CentraProtocolError, CentraUnavailable
from bridge.centra.port import CallObserver

log = structlog.get_logger(__name__)

#: Centra's request id header, for support cases.
REQUEST_ID_HEADER = "X-Centra-Request-ID"
#: Read size while streaming an answer; small enough to stop soon after the cap is crossed.
CHUNK_BYTES = 64 * 1024
USER_AGENT = f"centra-bridge/{__version__}"


def read_environment_once(session: requests.Session, endpoint: str) -> None:
    """Take proxies (``HTTPS_PROXY``, ``NO_PROXY``…) and a CA bundle from the environment now.

    requests otherwise scans the whole environment on every request to find them, a
    measurable share of a drain's CPU; the bridge's environment does not change while it runs.
    ``~/.netrc`` is not read either: Centra's credentials come from the configuration only.
    """
    session.proxies.update(requests.utils.get_environ_proxies(endpoint))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False


def read_capped(
    response: requests.Response, max_bytes: int, deadline: float | None = None
) -> bytes:
    """The body of ``response``, or CentraProtocolError as soon as it exceeds ``max_bytes``,
    or CentraUnavailable once ``deadline`` (a ``time.monotonic`` value) has passed.

    The count is taken after content decoding, so a small gzip bomb is caught as well. Each
    read waits at most until the deadline and returns what one read of the socket brought.
    """
    request_id = response.headers.get(REQUEST_ID_HEADER)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes, request_id)
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    try:
        while True:
            if deadline is not None:
                _wait_at_most(raw, deadline, request_id)
            chunk = raw.read1(CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes, request_id)
            chunks.append(chunk)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
        raise _stalled(request_id) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise CentraUnavailable(
            f"Centra's answer broke off or stalled: {type(exc).__name__}: {exc}",
            request_id=request_id,
        ) from exc
    return b"".join(chunks)


def _wait_at_most(raw: urllib3.HTTPResponse, deadline: float, request_id: str | None) -> None:
    """Let the next read of the socket wait no longer than until ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _stalled(request_id)
    connection = getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(remaining)


def _stalled(request_id: str | None) -> CentraUnavailable:
    return CentraUnavailable(
        "Centra's answer did not arrive within the timeout; abandoned", request_id=request_id
    )


def _too_large(max_bytes: int, request_id: str | None) -> CentraProtocolError:
    return CentraProtocolError(
        f"Centra's answer is larger than max_response_bytes ({max_bytes} bytes); not read",
        request_id=request_id,
    )


def tell(
    observe: CallObserver | None, operation: str, seconds: float, error: Exception | None
) -> None:
    """Tell the call's observer (the daemon's metrics); a failing observer is logged and never
    costs the call."""
    if observe is None:
        return
    try:
        observe(operation, seconds, error)
    except Exception as exc:
        log.warning("centra call observer failed", operation=operation, exc_info=exc)

"""The HTTP leg under zeep: timeouts always set, answers read with a byte cap, bodies never logged.

zeep's own ``Transport.post`` reads the whole answer into memory whatever its size and logs full
request bodies (login included) at DEBUG. This subclass streams the answer, stops at
``max_bytes`` and logs nothing; everything else (SOAPAction, Content-Type, the envelope) is
still zeep's, serialised from the WSDL.
"""

from __future__ import annotations

import os
import time
from contextlib import closing

import requests
import urllib3
from requests.auth import AuthBase
from zeep.transports import Transport

from bridge import __version__
from bridge.centra.errors import CentraProtocolError, CentraUnavailable

REQUEST_ID_HEADER = "X-Centra-Request-ID"
#: Read size while streaming an answer; small enough to stop soon after the cap is crossed.
CHUNK_BYTES = 64 * 1024
USER_AGENT = f"centra-bridge/{__version__}"


class CappedTransport(Transport):
    """A zeep transport whose POSTs time out, stay under a byte cap and may carry HTTP auth."""

    def __init__(
        self,
        *,
        session: requests.Session,
        timeout_s: tuple[float, float],
        max_bytes: int,
        auth: AuthBase | None = None,
    ) -> None:
        super().__init__(timeout=timeout_s[1], operation_timeout=timeout_s, session=session)
        #: The whole call (connect, send, the entire answer) is given at most this long.
        self.call_timeout_s = timeout_s[1]
        self.max_bytes = max_bytes
        self._auth = auth

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        """POST the envelope; the returned response already holds the (capped) body.

        The read timeout bounds the whole call, not each read: a server that trickles its
        answer a byte at a time is abandoned once the timeout has passed since the request.
        """
        deadline = time.monotonic() + self.call_timeout_s
        response = self.session.post(
            address,
            data=message,
            headers={**headers, "User-Agent": USER_AGENT},
            timeout=self.operation_timeout,
            auth=self._auth,
            stream=True,
            # A redirected POST would become a GET; a moved endpoint is a configuration fix.
            allow_redirects=False,
        )
        with closing(response):
            response._content = read_capped(response, self.max_bytes, deadline)
        return response


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

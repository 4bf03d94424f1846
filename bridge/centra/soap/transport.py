"""The HTTP leg under zeep: timeouts always set, answers read with a byte cap, bodies never logged.

zeep's own ``Transport.post`` reads the whole answer into memory whatever its size and logs full
request bodies (login included) at DEBUG. This subclass streams the answer, stops at
``max_bytes`` and logs nothing; everything else (SOAPAction, Content-Type, the envelope) is
still zeep's, serialised from the WSDL.
"""

from __future__ import annotations

import time
from contextlib import closing

import requests
from requests.auth import AuthBase
from zeep.transports import Transport

from bridge.centra.http import USER_AGENT, read_capped


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

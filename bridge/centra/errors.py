"""Everything that can go wrong talking to Centra, as one tree, the same for every transport.

    CentraError                  (a BridgeError)                           exit code
    ├── CentraUnavailable        transport error, timeout, HTTP 5xx or 429: UNAVAILABLE
    │                            try again later
    ├── CentraFault              Centra refused the call on purpose        CENTRA_ERROR
    │   │                        (a SOAP Fault; code and message kept)
    │   └── CentraAuthError      the login or token was refused            AUTH
    └── CentraProtocolError      an answer we cannot trust: not XML, a     CENTRA_ERROR
                                 DTD, too large, wrong element, a required
                                 field missing; also a stored event that
                                 can no longer be read

Only ``CentraUnavailable`` is worth retrying blindly; the others need a person or a fix.
"""

from __future__ import annotations

from bridge.errors import BridgeError, ExitCode


class CentraError(BridgeError):
    """Base of every error raised by ``bridge.centra``."""

    exit_code = ExitCode.CENTRA_ERROR
    #: Whether repeating the same call later may succeed.
    retryable: bool = False

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id

    def summary(self) -> str:
        request = f" (X-Centra-Request-ID {self.request_id})" if self.request_id else ""
        return f"Centra error{request}: {super().summary()}"


class CentraUnavailable(CentraError):
    """Centra could not be reached or answered 5xx/429; the call may be repeated."""

    exit_code = ExitCode.UNAVAILABLE
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        #: How long Centra asked to be left alone (``Retry-After``), if it said.
        self.retry_after_s = retry_after_s

    def summary(self) -> str:
        return BridgeError.summary(self)


class CentraFault(CentraError):
    """Centra refused the call on purpose (over SOAP: a SOAP Fault)."""

    def __init__(self, message: str, *, code: str = "", request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code


class CentraAuthError(CentraFault):
    """Centra refused the username or password."""

    exit_code = ExitCode.AUTH

    def summary(self) -> str:
        return f"Centra refused the login: {BridgeError.summary(self)}"


class CentraProtocolError(CentraError):
    """Centra's answer could not be parsed or broke the contract; nothing of it is used."""

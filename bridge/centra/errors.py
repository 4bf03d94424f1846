"""Everything that can go wrong talking to Centra, as one tree.

    CentraError
    ├── CentraUnavailable        transport error, timeout, HTTP 5xx or 429: try again later
    ├── CentraFault              a SOAP Fault Centra sent on purpose (code and message kept)
    │   └── CentraAuthError      the login was refused
    └── CentraProtocolError      an answer we cannot trust: not XML, a DTD, too large,
                                 wrong element, a required field missing

Only ``CentraUnavailable`` is worth retrying blindly; the others need a person or a fix.
"""

from __future__ import annotations


class CentraError(Exception):
    """Base of every error raised by ``bridge.centra``."""

    #: Whether repeating the same call later may succeed.
    retryable: bool = False

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class CentraUnavailable(CentraError):
    """Centra could not be reached or answered 5xx/429; the call may be repeated."""

    retryable = True

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code


class CentraFault(CentraError):
    """Centra answered with a SOAP Fault."""

    def __init__(self, message: str, *, code: str = "", request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.code = code


class CentraAuthError(CentraFault):
    """Centra refused the username or password."""


class CentraProtocolError(CentraError):
    """Centra's answer could not be parsed or broke the contract; nothing of it is used."""

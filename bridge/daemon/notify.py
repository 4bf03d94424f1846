"""sd_notify(3) over a datagram socket: READY, STATUS, WATCHDOG and STOPPING for systemd.

Without ``$NOTIFY_SOCKET`` (a terminal, a test, a container) every call does nothing, so the
daemon runs unchanged outside systemd. A lost datagram never stops the daemon: systemd's
watchdog is the one that acts on silence.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)


class Notifier:
    """Sends state changes to the service manager named by ``$NOTIFY_SOCKET``."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        if address and address.startswith("@"):
            address = "\0" + address[1:]  # the abstract namespace
        self.address = address or None
        #: How often systemd expects WATCHDOG=1, or None when it does not watch.
        self.watchdog_s = watchdog_usec / 1_000_000 if watchdog_usec else None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Notifier:
        """Read the protocol's own variables; a WATCHDOG_PID naming another process is ignored."""
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        return cls(environ.get("NOTIFY_SOCKET"), int(usec) if usec.isdigit() and ours else None)

    def send(self, *fields: str) -> None:
        if self.address is None:
            return
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never wait: with the manager's queue full (ten datagrams by default), a
                # blocking send would hang the supervising main thread, watchdog and all.
                sock.sendto(message, socket.MSG_DONTWAIT, self.address)
        except OSError as exc:
            log.warning("sd_notify failed", error=str(exc), message=fields[0])

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def stopping(self, status: str) -> None:
        self.send("STOPPING=1", f"STATUS={status}")

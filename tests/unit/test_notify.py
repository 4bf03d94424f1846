"""sd_notify: datagrams to a real socket, the abstract namespace, and silence without systemd."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path

from bridge.daemon.notify import Notifier


def test_messages_reach_a_path_socket(tmp_path: Path) -> None:
    """READY carries STATUS and MAINPID; WATCHDOG and STOPPING arrive as sent."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(tmp_path / "notify"))
        notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "notify")})
        notifier.ready("started")
        notifier.watchdog()
        notifier.stopping("bye")
        got = [server.recv(1024).decode() for _ in range(3)]
    assert got[0].splitlines() == ["READY=1", "STATUS=started", f"MAINPID={os.getpid()}"]
    assert got[1] == "WATCHDOG=1"
    assert got[2] == "STOPPING=1\nSTATUS=bye"


def test_a_manager_that_does_not_read_never_blocks_the_sender(tmp_path: Path) -> None:
    """With the manager's queue full, further messages are dropped, not waited on."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(tmp_path / "notify"))
        notifier = Notifier(str(tmp_path / "notify"))
        for _ in range(200):  # far more than the kernel queues for an unread socket
            notifier.watchdog()
        server.setblocking(False)
        received = 0
        with contextlib.suppress(BlockingIOError):
            while server.recv(64):
                received += 1
    assert 0 < received < 200


def test_abstract_namespace() -> None:
    """An address starting with @ names an abstract socket."""
    name = f"centra-bridge-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        Notifier(f"@{name}").status("hello")
        assert server.recv(1024) == b"STATUS=hello"


def test_without_systemd_nothing_happens() -> None:
    """No NOTIFY_SOCKET: every call is a no-op and no watchdog period is known."""
    notifier = Notifier.from_environ({})
    notifier.ready("x")
    notifier.watchdog()
    assert notifier.address is None and notifier.watchdog_s is None


def test_watchdog_period_only_for_this_process() -> None:
    """WATCHDOG_USEC counts only when WATCHDOG_PID is absent or names this process."""
    ours = Notifier.from_environ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())})
    theirs = Notifier.from_environ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"})
    assert ours.watchdog_s == 2.0
    assert theirs.watchdog_s is None


def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path) -> None:
    """A send to a socket that is gone never stops the daemon."""
    Notifier(str(tmp_path / "gone")).watchdog()

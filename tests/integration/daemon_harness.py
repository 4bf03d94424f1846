"""``centra-bridge run`` as systemd starts it: a child process, its log lines, its sd_notify."""

from __future__ import annotations

import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bridge_process import child_env, run_bridge

HERE = Path(__file__).parent
#: Long enough for a slow CI machine, short enough that a hang fails the test, not the run.
WAIT_S = 20.0


def write_config(
    tmp_path: Path, endpoint: str, password: str, *, database: str = "", extra: str = ""
) -> Path:
    """A config polling every second, without jitter, with a SQLite file beside it."""
    path = tmp_path / "bridge.toml"
    url = database or "sqlite:///bridge.db"
    path.write_text(
        f'[centra]\nendpoint = "{endpoint}"\nusername = "erp"\npassword = "{password}"\n'
        f'timeout = 30\n[database]\nurl = "{url}"\n'
        f"[schedule]\npoll = 1\npoll_jitter = 0\nretry = 1\nauth_retry = 0.5\n{extra}",
        encoding="utf-8",
    )
    return path


def bridge(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bridge("--config", str(config), *args)


class NotifySocket:
    """The service manager's end of sd_notify: a datagram socket the test reads."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.messages: list[str] = []

    def next(self, timeout: float = WAIT_S) -> str | None:
        self.sock.settimeout(timeout)
        try:
            message = self.sock.recv(4096).decode()
        except TimeoutError:
            return None
        self.messages.append(message)
        return message

    def wait_for(self, field: str, timeout: float = WAIT_S) -> str:
        """The next message with a line starting with ``field``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message and any(line.startswith(field) for line in message.splitlines()):
                return message
        raise AssertionError(f"no {field!r} in {self.messages[-5:]}")

    def drain(self) -> list[str]:
        """Messages already queued, without waiting."""
        self.sock.setblocking(False)
        seen: list[str] = []
        try:
            while True:
                seen.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            return seen
        finally:
            self.sock.setblocking(True)

    def close(self) -> None:
        self.sock.close()


class Daemon:
    """One ``run`` child (or another command's); stderr lines are collected as they come."""

    def __init__(
        self,
        config: Path,
        *args: str,
        env: dict[str, str] | None = None,
        command: str = "run",
    ) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bridge",
                "--config",
                str(config),
                "--log-format",
                "json",
                command,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(env),
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            self._new.put(line)

    def wait_log(self, predicate: Callable[[str], bool], timeout: float = WAIT_S) -> str:
        """The first log line, from now on or already seen, that ``predicate`` accepts."""
        for line in list(self.lines):
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                break
            if predicate(line):
                return line
        raise AssertionError("log line not seen; last lines:\n" + "".join(self.lines[-10:]))

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = WAIT_S) -> int:
        """SIGTERM, then the exit code (the child is killed if it does not exit in time)."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = WAIT_S) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._reader.join(5)
        return code

    def output(self) -> str:
        return "".join(self.lines)

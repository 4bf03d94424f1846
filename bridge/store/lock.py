"""One poller per store: an OS file lock beside a SQLite file, an advisory lock on PostgreSQL.

Both locks belong to the process and die with it (a crash or SIGKILL frees them at once), so
there is no stale lock for an operator to clean up. The PostgreSQL lock is session-level and
lives on a connection held for the life of the process, never returned to a pool: a pooled
connection would keep the lock after ``close()`` and hide its loss.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bridge.errors import BridgeError, ExitCode
from bridge.store.engine import make_engine

#: The advisory-lock key every centra-bridge uses on a PostgreSQL database (positive bigint).
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"centra-bridge poller").digest()[:8], "big") >> 1


class StoreLock(Protocol):
    """Held by the one process that polls a store."""

    #: Where the lock lives, for messages.
    where: str

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""

    def holder(self) -> str:
        """Who holds it, as far as can be told ("pid 1234"), or ""."""

    def healthy(self) -> bool:
        """Whether the lock is certainly still ours."""

    def release(self) -> None: ...


class LockHeld(BridgeError):
    """Another process polls this store."""

    exit_code = ExitCode.LOCKED

    def __init__(self, lock: StoreLock) -> None:
        holder = lock.holder()
        super().__init__(
            f"another centra-bridge already polls this store ({lock.where}"
            + (f", held by {holder}" if holder else "")
            + "); stop it first, or start this one with --standby to wait for it"
        )


class LockFileError(BridgeError):
    """The lock file beside a SQLite database cannot be created or opened."""

    exit_code = ExitCode.DATABASE


class LockLost(BridgeError):
    """This process held the store's lock and no longer does (connection gone, file removed)."""

    exit_code = ExitCode.DATABASE

    def __init__(self, lock: StoreLock) -> None:
        super().__init__(
            f"lost the store's lock ({lock.where}: connection gone, or lock file removed); "
            "nothing more is acknowledged"
        )


def ensure_held(lock: StoreLock) -> None:
    """LockLost unless ``lock`` is certainly still this process's."""
    if not lock.healthy():
        raise LockLost(lock)


@contextmanager
def held(
    url: str,
    *,
    required: bool = True,
    wait: Callable[[StoreLock], bool] | None = None,
) -> Iterator[StoreLock | None]:
    """The one way to take the poller's lock on ``url``'s store, released on leaving.

    Yields the lock while this process holds it. When another process holds it: ``wait``,
    if given, waits for it (True once taken, False when it gave up: None is yielded);
    otherwise LockHeld is raised, or None yielded when the lock is not ``required``.
    """
    lock = for_database(url)
    try:
        taken = lock.acquire() or (wait is not None and wait(lock))
        if not taken and required and wait is None:
            raise LockHeld(lock)
        yield lock if taken else None
    finally:
        lock.release()


def for_database(url: str) -> StoreLock:
    """The lock that fits ``url``'s database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return _NoLock()
        return FileLock(Path(f"{parsed.database}.lock"))
    return AdvisoryLock(make_engine(url))


class FileLock:
    """``flock`` on ``<database>.lock``; the file stays, only the lock comes and goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockFileError(
                f"cannot open the lock file {self.path}: {exc.strerror} "
                "(is the database's folder there, and writable by this user?)"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        with contextlib.suppress(OSError):  # the pid only names the holder in messages; a
            os.ftruncate(fd, 0)  # full disk must not cost the lock (the store says why)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except OSError:
            return ""
        return f"pid {pid}" if pid.isdigit() else ""

    def healthy(self) -> bool:
        """Held, and the lock file is still the one locked (not deleted as "stale")."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_ino == self.path.stat().st_ino
        except OSError:
            return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a dedicated autocommit connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        url = engine.url
        self.where = f"advisory lock {ADVISORY_KEY} on {url.database or ''}@{url.host or 'socket'}"

    def _connect(self) -> Connection:
        # Autocommit: an open transaction would be ended by idle_in_transaction_session_timeout.
        return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def acquire(self) -> bool:
        connection = self._connect()
        taken = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def holder(self) -> str:
        query = text(
            "SELECT a.pid, a.client_addr, a.application_name FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            " AND ((l.classid::bigint << 32) | l.objid::bigint) = (:key)::bigint"
        )
        try:
            with self._connect() as connection:
                row = connection.execute(query, {"key": ADVISORY_KEY}).first()
        except SQLAlchemyError:
            return ""
        if row is None:
            return ""
        return f"server pid {row.pid} from {row.client_addr or 'local socket'}"

    def healthy(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.scalar(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.scalar(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY}
                )
                self._connection.close()
            except SQLAlchemyError:
                pass  # the session is gone, and its lock with it
            self._connection = None
        self._engine.dispose()


class _NoLock:
    """An in-memory SQLite database belongs to one process anyway."""

    where = "in-memory database"

    def acquire(self) -> bool:
        return True

    def holder(self) -> str:
        return ""

    def healthy(self) -> bool:
        return True

    def release(self) -> None:
        return None

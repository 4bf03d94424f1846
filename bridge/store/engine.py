"""Database engines set up for a daemon that acknowledges upstream only after its commit."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bridge.errors import BridgeError, ExitCode

#: How long a writer waits for another before SQLite gives up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Execution option marking a transaction that only reads.
READ_ONLY = "centra_bridge_read_only"


def to_json(value: Any) -> str:
    """The JSON columns' text (the copies' documents, outbox fields), written by orjson: a
    batch of orders spent more time in ``json.dumps`` than in the database. What orjson
    refuses and ``json`` takes (an integer past 64 bits, a key that is not text) is written
    by ``json`` as before."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``: SQLite with WAL and full sync, or PostgreSQL over psycopg 3.

    A SQLite file is created (private) when missing, unless ``create`` is False: then a
    missing file is a DatabaseFileError naming it, and the file is used as it is. A missing
    folder is never created: a mistyped path must not quietly start a new, empty database
    somewhere else.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, create)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        json_serializer=to_json,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 10,
            "application_name": "centra-bridge",
            "options": "-c statement_timeout=60000 -c lock_timeout=10000"
            " -c idle_in_transaction_session_timeout=300000",
        },
    )


def _sqlite_engine(url: str, database: str | None, create: bool) -> Engine:
    if database and database != ":memory:":
        if create:
            _create_private_file(Path(database))
        elif not Path(database).is_file():
            raise DatabaseFileError(
                f"no SQLite database at {database} (check [database] url; run, drain-events "
                "or db upgrade create it)"
            )
    engine = create_engine(url, json_serializer=to_json)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from Python's sqlite3 so BEGIN is ours (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if create:
            # A write (it stays with the file): an existing store is in WAL mode already, and
            # a file that is not one must be left as it was found.
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an event Centra forgot after events_Done must survive a power cut here.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so busy_timeout applies instead of an
        # instant "database is locked" when a reader later wants to write. Readers (WAL)
        # take no lock at all, so `status` never waits for a handler's transaction.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class StoreGone(BridgeError):
    """The SQLite file this process opened is no longer at its path."""

    exit_code = ExitCode.DATABASE


@dataclass(frozen=True, slots=True)
class StoreFile:
    """Which file a SQLite store is: its path and the inode it had when it was opened."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, engine: Engine) -> StoreFile | None:
        database = engine.url.database
        if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        path = Path(database)
        try:
            found = path.stat()
        except OSError as exc:
            raise DatabaseFileError(
                f"cannot open the SQLite database {path}: {exc.strerror}"
            ) from None
        return cls(path, found.st_dev, found.st_ino)

    def ensure_in_place(self) -> None:
        """StoreGone unless the path still names the file that was opened."""
        try:
            found = self.path.stat()
        except OSError as exc:
            raise StoreGone(
                f"the SQLite database {self.path} is gone ({exc.strerror}); "
                "nothing more is acknowledged"
            ) from None
        if (found.st_dev, found.st_ino) != (self.device, self.inode):
            raise StoreGone(
                f"the SQLite database {self.path} was replaced by another file; "
                "nothing more is acknowledged"
            )


class DatabaseFileError(BridgeError):
    """The SQLite file (or its folder) cannot be created or opened."""

    exit_code = ExitCode.DATABASE

    def summary(self) -> str:
        return f"database error: {super().summary()}"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for a server or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def database_name(url: str) -> str:
    """Which database ``url`` is, for people: the SQLite file's path, or database@host
    (never the password)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return f"PostgreSQL database {parsed.database or ''}@{parsed.host or 'local socket'}"


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only: it holds customers' addresses.

    Its folder must exist: under systemd it is the unit's StateDirectory, elsewhere the
    operator's choice; a folder that is not there is a mistake to report, not to paper over.
    """
    if not path.parent.is_dir():
        raise DatabaseFileError(
            f"the folder of the SQLite database {path} does not exist (check [database] url, "
            "or create the folder)"
        )
    try:
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    except OSError as exc:
        raise DatabaseFileError(
            f"cannot create the SQLite database {path}: {exc.strerror}"
        ) from None

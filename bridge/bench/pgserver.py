"""A database of the bench's own on a PostgreSQL server it is given, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from bridge.errors import BridgeError, ExitCode


class BenchDatabaseError(BridgeError):
    """The PostgreSQL server given to the bench cannot be used."""

    exit_code = ExitCode.DATABASE


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on ``server_url``'s server, dropped on the way out."""
    try:
        server = make_url(server_url)
    except ArgumentError:
        raise BenchDatabaseError("bench: --pg-url is not a database URL") from None
    if server.get_backend_name() != "postgresql":
        raise BenchDatabaseError("bench: --pg-url must be a postgresql:// URL")
    name = f"centra_bridge_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        admin.dispose()
        # The driver's first line names the server and the user, never the password.
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise BenchDatabaseError(
            f"bench: cannot create a database on the PostgreSQL server: {reason}"
        ) from None
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

"""Schema migrations (alembic), applied on start or by ``centra-bridge db upgrade``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bridge.store.engine import DatabaseFileError, make_engine, sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"
#: The advisory-lock key migrations run under on PostgreSQL (a positive bigint).
MIGRATION_KEY = int.from_bytes(hashlib.sha256(b"centra-bridge migrations").digest()[:8], "big") >> 1


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration this version of the bridge knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(engine: Engine, name: str) -> None:
    """DatabaseFileError unless the database ``name`` is at this version's schema: what a
    command that only reads needs, as it must not migrate (nor create) anything."""
    found = current_revision(engine)
    if found is None:
        raise DatabaseFileError(
            f"{name} holds no centra-bridge schema (is [database] url right? "
            "centra-bridge db upgrade creates it)"
        )
    if found != head_revision():
        raise DatabaseFileError(
            f"{name} is at schema {found}, this version reads {head_revision()}: "
            "run centra-bridge db upgrade"
        )


def database_state(url: str) -> str:
    """What is at ``url`` now, in a phrase (for ``config check``); creates nothing."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        folder = "" if path.parent.is_dir() else f"; its folder {path.parent} is not there either"
        return "not there yet: the first run, drain-events, push or db upgrade creates it" + folder
    engine = make_engine(url, create=False)
    try:
        found = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    if found is None:
        return "no schema yet: the first run, drain-events, push or db upgrade creates it"
    if found != head:
        return f"schema {found}: the next run (or db upgrade) migrates it to {head}"
    return f"schema {head} (current)"


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the newest schema; returns (before, after) revisions.

    On PostgreSQL the upgrade runs under an advisory lock: commands starting together on an
    empty database take turns, and the later ones find the schema current, instead of
    racing to create the same tables. (On SQLite the file's write lock serialises them.)
    """
    config = _config()
    with engine.connect() as connection:
        server = connection.dialect.name == "postgresql"
        if server:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_KEY})
            connection.commit()
        try:
            before = MigrationContext.configure(connection).get_current_revision()
            connection.commit()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if server:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_KEY})
                connection.commit()
    return before, head_revision()


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the models (a development tool, never run by the daemon)."""
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)

"""Schema migrations (alembic), applied on start or by ``centra-bridge db upgrade``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

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

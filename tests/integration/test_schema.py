"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import stat
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bridge.store import Store, schema
from bridge.store.models import Base


def test_migrations_match_models(database_url: str) -> None:
    """After upgrading, autogenerate finds nothing left to migrate (no forgotten migration)."""
    store = Store.open(database_url)
    try:
        with store.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
        assert schema.current_revision(store.engine) == schema.head_revision()
        assert schema.upgrade(store.engine) == (schema.head_revision(), schema.head_revision())
    finally:
        store.close()


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    """The database holds customers' addresses: only its owner may read it."""
    path = tmp_path / "state" / "bridge.db"
    Store.open(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

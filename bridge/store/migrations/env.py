"""Alembic environment: runs on the connection handed over by ``bridge.store.schema``."""

from __future__ import annotations

from alembic import context

from bridge.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER constraints; batch mode rebuilds the table instead.
    render_as_batch=True,
    # Our SQLite engine emits BEGIN itself, so DDL there is transactional too.
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()

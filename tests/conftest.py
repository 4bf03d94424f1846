"""Shared fixtures: a real SQLite file, or a real PostgreSQL database, per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bridge import logging as bridge_logging
from bridge.store import Store

PG_URL_ENV = "CENTRA_BRIDGE_TEST_PG_URL"
#: Set by CI: a missing PostgreSQL server fails the run instead of skipping those tests.
REQUIRE_PG_ENV = "CENTRA_BRIDGE_REQUIRE_PG"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database on each backend the bridge supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'bridge.db'}"
        return
    server = os.environ.get(PG_URL_ENV)
    if not server:
        if os.environ.get(REQUIRE_PG_ENV):
            pytest.fail(f"{PG_URL_ENV} is not set but {REQUIRE_PG_ENV} is")
        pytest.skip(f"set {PG_URL_ENV} to run against PostgreSQL")
    name = f"bridge_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The bridge's store on a fresh database, schema migrated."""
    opened = Store.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True, scope="session")
def _bridge_logging() -> None:
    """Logs as the commands write them (stderr, secrets masked), at info so debug stays quiet."""
    bridge_logging.configure("info", "console")

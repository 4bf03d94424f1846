"""Persistence: one ``Store`` per process, one transaction per state transition."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.store import schema
from bridge.store.engine import READ_ONLY, StoreFile, database_name, make_engine


class Store:
    """The database the bridge owns: engine, sessions and schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: Which database this is, for people (a path, or database@host; no password).
        self.name = database_name(engine.url.render_as_string(hide_password=True))
        #: The SQLite file as it was opened (None on a server), to notice it vanish.
        self.file = StoreFile.of(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` and, unless told not to, bring its schema up to date."""
        store = cls(make_engine(url))
        if migrate:
            schema.upgrade(store.engine)
        return store

    @classmethod
    def open_existing(cls, url: str) -> Store:
        """The store at ``url`` as it is, for commands that only read (``status``, listings).

        Nothing is created or migrated: a missing SQLite file, an empty database or one at
        another schema is a DatabaseFileError (exit 7) naming the database.
        """
        store = cls(make_engine(url, create=False))
        try:
            schema.ensure_current(store.engine, store.name)
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any exception."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it waits for no writer."""
        with self._readers() as session, session.begin():
            yield session

    def ensure_in_place(self) -> None:
        """Raise StoreGone when the SQLite file was deleted, moved or replaced since it was
        opened: what is committed now would land in a file nobody will read."""
        if self.file is not None:
            self.file.ensure_in_place()

    def close(self) -> None:
        self.engine.dispose()

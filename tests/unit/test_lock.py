"""The SQLite store lock: one holder at a time, freed on release, holder named."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.store.lock import FileLock, LockHeld, for_database


def test_second_holder_is_refused_until_release(tmp_path: Path) -> None:
    """Two locks on one file: the second fails while the first holds, succeeds after."""
    first, second = FileLock(tmp_path / "db.lock"), FileLock(tmp_path / "db.lock")
    assert first.acquire()
    assert not second.acquire()
    assert second.holder() == f"pid {os.getpid()}"
    assert f"held by pid {os.getpid()}" in str(LockHeld(second))
    first.release()
    assert second.acquire()
    second.release()


def test_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    """sqlite:///x.db locks x.db.lock, readable by its owner only."""
    lock = for_database(f"sqlite:///{tmp_path / 'x.db'}")
    assert lock.acquire()
    try:
        assert lock.where == str(tmp_path / "x.db.lock")
        assert (tmp_path / "x.db.lock").stat().st_mode & 0o077 == 0
    finally:
        lock.release()


def test_file_lock_is_not_healthy_once_its_file_is_deleted(tmp_path: Path) -> None:
    """Someone removing the lock file as "stale" must not leave two pollers on one store."""
    lock = FileLock(tmp_path / "bridge.db.lock")
    assert lock.acquire()
    assert lock.healthy()
    (tmp_path / "bridge.db.lock").unlink()
    assert not lock.healthy()
    lock.release()

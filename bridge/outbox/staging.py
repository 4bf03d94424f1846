"""An input (a file, a drop-directory file, several files of one ``push``) queued all or
nothing, however large it is.

Checked records are stored a chunk per transaction as ``staged`` while the rest of the input
is read, so memory stays bounded and no transaction holds the store for long (the drain keeps
storing events meanwhile). Only when the whole input is good does one statement queue them
all; otherwise they are deleted and nothing of the input was ever due. A crash midway leaves
only staged records, which are never sent: a drop file is read again from ``work/`` (its
leftovers deleted first), and housekeeping removes what an interrupted ``push`` left.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable, Iterator

from sqlalchemy.exc import SQLAlchemyError

from bridge.clock import Progress, no_progress, utcnow
from bridge.outbox.input import Checker, ErpRecord
from bridge.store import Store
from bridge.store import outbox as repo
from bridge.store.models import OutboxStatus

#: Records stored per transaction while an input is read.
CHUNK = 1000


def queue_input(
    store: Store,
    checker: Checker,
    records: Iterable[ErpRecord],
    input_key: str,
    stop: threading.Event | None = None,
    progress: Progress = no_progress,
) -> int | None:
    """Queue ``records`` (checked by ``checker`` as they are read) under ``input_key``.

    Returns how many were queued, or None when ``stop`` was set first (nothing queued).
    Raises the checker's InputError, with nothing queued, when any record was bad.
    ``progress`` hears the count of records read after each chunk.
    """
    read = 0
    try:
        for chunk in _chunks(records, CHUNK):
            read += len(chunk)
            progress("checking and queueing ERP records", read)
            if stop is not None and stop.is_set():
                _drop(store, input_key)
                return None
            if not checker.failed:  # after a bad line, only read on to report the rest
                with store.transaction() as session:
                    repo.add_records(
                        session, chunk, utcnow(), input_key, status=OutboxStatus.STAGED
                    )
        checker.raise_problems()
    except BaseException:
        with contextlib.suppress(SQLAlchemyError):  # the first error is the one to tell
            _drop(store, input_key)
        raise
    with store.transaction() as session:
        return repo.release_staged(session, input_key, utcnow())


def _drop(store: Store, input_key: str) -> None:
    with store.transaction() as session:
        repo.drop_staged(session, input_key)


def _chunks(records: Iterable[ErpRecord], size: int) -> Iterator[list[ErpRecord]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk

"""The directory sink: one file per delivered event, written so an importer never sees half.

Each file is written under a hidden temporary name in the same directory, flushed to disk
(fsync), then renamed into place, and the directory entry is synced too: an ERP import job
polling the folder sees either nothing or the whole file. Names carry the type, the object id
and the event id (``customer_4711_1042.json``), so a later event for the same object is a new
file and a redelivery of the same event replaces its own file.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

from bridge.handlers.base import EventRecord

#: Characters kept in a file name; anything else in an id becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_PART = 80


def file_name(event: EventRecord, extension: str) -> str:
    parts = (event.type, event.object_id or "-", event.event_id)
    return "_".join(_UNSAFE.sub("_", part)[:_MAX_PART] for part in parts) + f".{extension}"


def render(event: EventRecord, fmt: str) -> bytes:
    """JSON: the event's fields and parsed object; XML: the ``<event>`` as Centra sent it."""
    if fmt == "xml":
        return event.xml.encode("utf-8")
    document = {
        "event_id": event.event_id,
        "type": event.type,
        "mission": event.mission,
        "entry": event.entry,
        "date": event.date_iso,
        "date_as_sent": event.date,
        "object_id": event.object_id,
        "payload": event.payload,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_private(path: Path, data: bytes) -> None:
    """``write_atomically``, readable by its owner only (exports: ids, customer data)."""
    write_atomically(path, data, mode=0o600)


def write_atomically(path: Path, data: bytes, *, mode: int = 0o640) -> None:
    """Temporary file, fsync, rename, fsync of the directory; no partial file is ever visible.

    The default mode lets the ERP's group read what the bridge delivers, nobody else.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class DirectorySink:
    """Writes each event into ``directory`` (which must exist: a missing share is an error)."""

    def __init__(self, directory: Path, fmt: str) -> None:
        self.directory = directory
        self.format = fmt

    def __call__(self, event: EventRecord) -> None:
        if not self.directory.is_dir():
            raise FileNotFoundError(f"sink directory {self.directory} does not exist")
        write_atomically(self._target(event), render(event, self.format))

    def destination(self, event: EventRecord) -> str:
        """The file the event is written to."""
        return f"file {self._target(event)}"

    def _target(self, event: EventRecord) -> Path:
        return self.directory / file_name(event, self.format)

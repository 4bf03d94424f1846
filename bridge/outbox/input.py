"""ERP updates as JSON Lines: parsed and checked against what Centra takes before anything
is stored (the transport's ``EventCodec.update_problem``: over SOAP, the WSDL).

One line is one object: ``{"type": "customer", "id": "C1001", "firstname": "Ada"}``. The keys
besides ``type`` are the element names of Centra's update item (``centra-soap.md`` §4): nested
elements are objects, a repeated element is a list under its wrapper's name. Every problem is
reported as ``file:line: field: problem``; one bad line rejects the whole file, so a file is
queued completely or not at all.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.centra.port import EventCodec
from bridge.errors import BridgeError, ExitCode
from bridge.outbox.entities import ENTITY_TYPES
from bridge.store.models import MAX_ID_CHARS

#: More problems than this in one file are summarised; the first ones say enough.
MAX_REPORTED = 20
#: A text value longer than this is refused at input: Centra would refuse it at every try
#: (a product description of this size is already unusual), and it would sit in the outbox.
MAX_VALUE_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class ErpRecord:
    """One ERP update: which object (by the ERP's id) and the fields to change."""

    entity_type: str
    erp_id: str
    #: The item as Centra's update names it, ``id`` included, ``type`` not.
    fields: dict[str, Any]
    #: Where it came from, for messages: ``file:line``.
    source: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one line."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


class InputError(BridgeError):
    """A file holds bad records; nothing from it may be queued."""

    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = [str(problem) for problem in problems[:MAX_REPORTED]]
        if len(problems) > MAX_REPORTED:
            shown.append(f"… and {len(problems) - MAX_REPORTED} more problems")
        super().__init__("\n".join(shown))

    def details(self) -> list[str]:
        """Every problem, one line each (the message itself shows the first ones)."""
        return [str(problem) for problem in self.problems]

    def summary(self) -> str:
        return "nothing queued: fix the lines above and push again"


@dataclass
class _Collector:
    source: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.source, line, field_name, message))


def parse_lines(text: str, source: str, codec: EventCodec) -> list[ErpRecord]:
    """Every record of a JSON Lines text, or InputError listing every bad line.

    Blank lines are skipped; a UTF-8 byte order mark is tolerated.
    """
    collector = _Collector(source)
    records: list[ErpRecord] = []
    # Only \n ends a line: JSON strings may hold U+2028 and other "line breaks" unescaped.
    lines = text.removeprefix("\ufeff").split("\n")
    for number, line in enumerate((line.removesuffix("\r") for line in lines), start=1):
        if line.strip():
            record = _parse_line(line, number, codec, collector)
            if record is not None:
                records.append(record)
    if collector.problems:
        raise InputError(collector.problems)
    return records


def check_records(
    items: Iterable[Mapping[str, Any]], source: str, codec: EventCodec
) -> list[ErpRecord]:
    """The Python API's way in: dicts shaped like one JSON line each, checked the same way."""
    collector = _Collector(source)
    records = [
        _record(dict(item), number, codec, collector)
        if isinstance(item, Mapping)
        else collector.add(number, "-", "must be a dict with type and id")
        for number, item in enumerate(items, start=1)
    ]
    if collector.problems:
        raise InputError(collector.problems)
    return [record for record in records if record is not None]


def _parse_line(
    line: str, number: int, codec: EventCodec, collector: _Collector
) -> ErpRecord | None:
    try:
        data = json.loads(line, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        collector.add(number, "-", f"not valid JSON: {exc.msg} (column {exc.colno})")
        return None
    except (ValueError, RecursionError) as exc:
        collector.add(number, "-", f"not usable JSON: {exc}")
        return None
    if not isinstance(data, dict):
        collector.add(number, "-", f"must be a JSON object, got {type(data).__name__}")
        return None
    return _record(data, number, codec, collector)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number Centra can take")


def _record(
    data: dict[str, Any], number: int, codec: EventCodec, collector: _Collector
) -> ErpRecord | None:
    entity_type = data.pop("type", None)
    if entity_type not in ENTITY_TYPES:
        collector.add(
            number,
            "type",
            f"must be one of {', '.join(sorted(ENTITY_TYPES))}, got {entity_type!r}",
        )
        return None
    erp_id = data.get("id")
    if isinstance(erp_id, int) and not isinstance(erp_id, bool):
        erp_id = data["id"] = str(erp_id)
    if not isinstance(erp_id, str) or not erp_id.strip():
        collector.add(number, "id", "required: the ERP's id of the object, a non-empty string")
        return None
    if len(erp_id) > MAX_ID_CHARS:
        collector.add(number, "id", f"too long: {len(erp_id)} characters, at most {MAX_ID_CHARS}")
        return None
    problem = _shape_problem(data, entity_type, codec)
    if problem is not None:
        collector.add(number, *problem)
        return None
    return ErpRecord(entity_type, erp_id, data, f"{collector.source}:{number}")


def _shape_problem(
    data: dict[str, Any], entity_type: str, codec: EventCodec
) -> tuple[str, str] | None:
    """(field path, problem) for the first field Centra's update cannot carry, else None."""
    null = _first_path(data, "", lambda value: value is None)
    if null is not None:
        return null[0].lstrip("."), (
            'null is not a value: leave the field out to keep it unchanged, or send "" to clear it'
        )
    long = _first_path(data, "", _too_long)
    if long is not None:
        path, text = long
        return path.lstrip("."), f"too long: {len(text)} characters, at most {MAX_VALUE_CHARS}"
    return codec.update_problem(entity_type, data)


def _first_path(value: Any, path: str, wrong: Callable[[Any], bool]) -> tuple[str, Any] | None:
    """The path and value of the first part of ``value`` that is ``wrong``, or None."""
    if wrong(value):
        return path, value
    children: Iterable[tuple[str, Any]] = ()
    if isinstance(value, dict):
        children = ((f"{path}.{key}", sub) for key, sub in value.items())
    elif isinstance(value, list):
        children = ((f"{path}[{index}]", sub) for index, sub in enumerate(value))
    for child_path, sub in children:
        found = _first_path(sub, child_path, wrong)
        if found is not None:
            return found
    return None


def _too_long(value: Any) -> bool:
    return isinstance(value, str) and len(value) > MAX_VALUE_CHARS


class NotRegularFile(ValueError):
    """An input path is a FIFO, a device, a socket or (where refused) a symlink."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_regular_text(path: Path, *, follow_symlinks: bool = True) -> str:
    """The UTF-8 text of ``path``, which must be a regular file.

    Opened without blocking (a FIFO with no writer would hang the reader forever) and checked
    on the open descriptor, so nothing can be swapped in between; without
    ``follow_symlinks`` a symlink is refused rather than followed.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile("not a regular file (a symlink); not read") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        kind = next((name for test, name in _KINDS if test(mode)), "not a file")
        raise NotRegularFile(f"not a regular file ({kind}); not read")
    with os.fdopen(fd, "rb") as file:
        return file.read().decode("utf-8")


def read_files(paths: Iterable[Path], codec: EventCodec) -> list[ErpRecord]:
    """Every record of every file, or InputError listing the problems of all of them.

    All files are checked before any record is returned, so a command queues all or nothing.
    """
    records: list[ErpRecord] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            records += parse_lines(read_regular_text(path), str(path), codec)
        except InputError as exc:
            problems += exc.problems
        except NotRegularFile as exc:
            problems.append(Problem(str(path), 0, "-", str(exc)))
        except UnicodeDecodeError as exc:
            problems.append(Problem(str(path), 0, "-", f"not UTF-8 text (byte {exc.start})"))
        except OSError as exc:
            problems.append(Problem(str(path), 0, "-", f"cannot read: {exc.strerror}"))
    if problems:
        raise InputError(problems)
    return records

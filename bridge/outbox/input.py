"""ERP updates as JSON Lines: parsed and checked against what Centra takes before anything
is stored (the transport's ``EventCodec.update_problem``: over SOAP, the WSDL).

One line is one object: ``{"type": "customer", "id": "C1001", "firstname": "Ada"}``. The keys
besides ``type`` are the element names of Centra's update item (``centra-soap.md`` §4): nested
elements are objects, a repeated element is a list under its wrapper's name. Every problem is
reported as ``file:line: field: problem``; one bad line rejects the whole file, so a file is
queued completely or not at all. Files are read a line at a time, so their size does not
matter to the memory.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from bridge.centra.port import EventCodec
from bridge.errors import BridgeError, ExitCode
from bridge.outbox.entities import ENTITY_TYPES
from bridge.outbox.orders import ACTIONS, OrderBook, OrderProblem, expand_action, stock_record
from bridge.outbox.prices import price_record, pricelist_fields
from bridge.store.models import MAX_ID_CHARS

#: More problems than this in one file are summarised; the first ones say enough.
MAX_REPORTED = 20
#: A text value longer than this is refused at input: Centra would refuse it at every try
#: (a product description of this size is already unusual), and it would sit in the outbox.
MAX_VALUE_CHARS = 100_000
#: A line longer than this is refused unread (several values at their limit still fit).
MAX_LINE_BYTES = 8 * 1024 * 1024


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


#: Short records a person writes by hand: how each is expanded, and the type it becomes.
SHORT_RECORDS: dict[str, tuple[Callable[[Mapping[str, Any]], dict[str, Any]], str]] = {
    **{kind: (partial(expand_action, kind), "order") for kind in ACTIONS},
    "stock": (stock_record, "product"),
    "price": (price_record, "pricelist"),
}


class InputError(BridgeError):
    """An input holds bad records; nothing from it may be queued."""

    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[Problem], untold: Mapping[str, int] | None = None) -> None:
        self.problems = problems
        #: Per input, the problems found beyond its first MAX_REPORTED (counted, not kept).
        self.untold = dict(untold or {})
        super().__init__("\n".join(self.details()))

    def details(self) -> list[str]:
        """The problems kept (the first ones of each input), then how many more there were."""
        lines = [str(problem) for problem in self.problems]
        lines += [f"{source}: … and {count} more problems" for source, count in self.untold.items()]
        return lines

    def summary(self) -> str:
        return "nothing queued: fix the lines above and push again"


class Checker:
    """Checks ERP records one at a time, so an input of any size is checked in bounded
    memory: the first MAX_REPORTED problems of each input are kept, the rest only counted."""

    def __init__(self, codec: EventCodec, orders: OrderBook | None = None) -> None:
        self.codec = codec
        #: Order records are checked against the local order copies; without a book (a
        #: check that has no store) they are refused.
        self.orders = orders
        self.problems: list[Problem] = []
        self.untold: dict[str, int] = {}
        self._kept: dict[str, int] = {}

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def add(self, source: str, line: int, field_name: str, message: str) -> None:
        if self._kept.get(source, 0) < MAX_REPORTED:
            self._kept[source] = self._kept.get(source, 0) + 1
            self.problems.append(Problem(source, line, field_name, message))
        else:
            self.untold[source] = self.untold.get(source, 0) + 1

    def raise_problems(self) -> None:
        """InputError with everything found so far, if anything was."""
        if self.problems:
            raise InputError(self.problems, self.untold)

    def lines(self, file: BinaryIO, source: str) -> Iterator[ErpRecord]:
        """The good records of a JSON Lines file, read a line at a time.

        Blank lines are skipped; a UTF-8 byte order mark is tolerated. Only \\n ends a line:
        JSON strings may hold U+2028 and other "line breaks" unescaped.
        """
        for number, raw in enumerate(_raw_lines(file), start=1):
            if raw is None:
                self.add(source, number, "-", f"too long: over {MAX_LINE_BYTES} bytes in one line")
                continue
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
            except UnicodeDecodeError as exc:
                self.add(source, number, "-", f"not UTF-8 text (byte {exc.start + 1} of the line)")
                continue
            if line.strip():
                record = self._parse_line(line, source, number)
                if record is not None:
                    yield record

    def items(self, items: Iterable[object], source: str) -> Iterator[ErpRecord]:
        """The good records among dicts shaped like one JSON line each (the Python API, whose
        callers' types are not checked at run time)."""
        for number, item in enumerate(items, start=1):
            if not isinstance(item, Mapping):
                self.add(source, number, "-", "must be a dict with type and id")
                continue
            record = self._record(dict(item), source, number)
            if record is not None:
                yield record

    def files(self, paths: Iterable[Path]) -> Iterator[ErpRecord]:
        """The good records of each file in turn; a file that cannot be read is a problem."""
        for path in paths:
            source = str(path)
            try:
                with open_regular(path) as file:
                    yield from self.lines(file, source)
            except NotRegularFile as exc:
                self.add(source, 0, "-", str(exc))
            except OSError as exc:
                self.add(source, 0, "-", f"cannot read: {exc.strerror}")

    def _parse_line(self, line: str, source: str, number: int) -> ErpRecord | None:
        try:
            data = json.loads(line, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            self.add(source, number, "-", f"not valid JSON: {exc.msg} (column {exc.colno})")
            return None
        except (ValueError, RecursionError) as exc:
            self.add(source, number, "-", f"not usable JSON: {exc}")
            return None
        if not isinstance(data, dict):
            self.add(source, number, "-", f"must be a JSON object, got {type(data).__name__}")
            return None
        return self._record(data, source, number)

    def _record(self, data: dict[str, Any], source: str, number: int) -> ErpRecord | None:
        entity_type = data.pop("type", None)
        if entity_type in SHORT_RECORDS:
            expand, entity_type = SHORT_RECORDS[entity_type]
            try:
                data = expand(data)
            except OrderProblem as exc:
                self.add(source, number, exc.field, exc.message)
                return None
        elif entity_type == "pricelist":
            data = pricelist_fields(data)
        elif entity_type not in ENTITY_TYPES:
            types = ", ".join(sorted({*ENTITY_TYPES, *SHORT_RECORDS}))
            self.add(source, number, "type", f"must be one of {types}, got {entity_type!r}")
            return None
        erp_id = data.get("id")
        if isinstance(erp_id, int) and not isinstance(erp_id, bool):
            erp_id = data["id"] = str(erp_id)
        if not isinstance(erp_id, str) or not erp_id.strip():
            message = "required: the ERP's id of the object, a non-empty string"
            self.add(source, number, "id", message)
            return None
        if len(erp_id) > MAX_ID_CHARS:
            message = f"too long: {len(erp_id)} characters, at most {MAX_ID_CHARS}"
            self.add(source, number, "id", message)
            return None
        if entity_type == "order":
            try:
                data = self._order(data)
            except OrderProblem as exc:
                self.add(source, number, exc.field, exc.message)
                return None
        problem = _shape_problem(data, entity_type, self.codec)
        if problem is not None:
            self.add(source, number, *problem)
            return None
        return ErpRecord(entity_type, erp_id, data, f"{source}:{number}")

    def _order(self, data: dict[str, Any]) -> dict[str, Any]:
        if self.orders is None:
            raise OrderProblem(
                "type",
                "an order update is checked against the local order copy; queue it with push",
            )
        return self.orders.complete(data)


def parse_lines(text: str, source: str, codec: EventCodec) -> list[ErpRecord]:
    """Every record of a JSON Lines text, or InputError listing the bad lines."""
    checker = Checker(codec)
    records = list(checker.lines(io.BytesIO(text.encode("utf-8")), source))
    checker.raise_problems()
    return records


def check_records(
    items: Iterable[Mapping[str, Any]],
    source: str,
    codec: EventCodec,
    orders: OrderBook | None = None,
) -> list[ErpRecord]:
    """The Python API's way in: dicts shaped like one JSON line each, checked the same way."""
    checker = Checker(codec, orders)
    records = list(checker.items(items, source))
    checker.raise_problems()
    return records


def read_files(
    paths: Iterable[Path], codec: EventCodec, orders: OrderBook | None = None
) -> list[ErpRecord]:
    """Every record of every file, or InputError listing the problems of all of them.

    For a dry run, which shows every request; queueing streams through ``Checker`` instead.
    """
    checker = Checker(codec, orders)
    records = list(checker.files(paths))
    checker.raise_problems()
    return records


def _raw_lines(file: BinaryIO) -> Iterator[bytes | None]:
    """Each line's bytes, or None for a line longer than MAX_LINE_BYTES (skipped in pieces,
    so one endless line cannot fill the memory)."""
    while raw := file.readline(MAX_LINE_BYTES + 1):
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = file.readline(MAX_LINE_BYTES)
        yield None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number Centra can take")


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


def open_regular(path: Path, *, follow_symlinks: bool = True) -> BinaryIO:
    """``path`` opened for reading; it must be a regular file.

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
    return os.fdopen(fd, "rb")

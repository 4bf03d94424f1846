"""The drop directory: files picked up atomically, queued once, moved, never lost."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bridge_process import run_bridge, write_config
from event_xml import main_codec
from sqlalchemy import select
from test_push_cli import PASSWORD, write_lines

from bridge.clock import utcnow
from bridge.outbox.dropdir import DropDirectory
from bridge.outbox.input import MAX_LINE_BYTES, parse_lines
from bridge.simulator import Simulator
from bridge.store import Store
from bridge.store import outbox as outbox_rows
from bridge.store.models import OutboxRecord, OutboxStatus

CODEC = main_codec()
GOOD = (
    {"type": "product", "id": "P1", "sku": "P1"},
    {"type": "customer", "id": "C1", "firstname": "Ada"},
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "drop"
    path.mkdir()
    return path


def queued(store: Store) -> list[tuple[str, str | None]]:
    with store.transaction() as session:
        return [
            (row.erp_id, row.source)
            for row in session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))
        ]


def test_good_file_is_queued_and_moved_to_processed(store: Store, folder: Path) -> None:
    """Both records are queued in order; the file ends in processed/ under a unique name."""
    write_lines(folder / "stock.jsonl", *GOOD)
    (folder / "stock.jsonl.part").write_text("{not yet")
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert (report.files, report.records, report.failed_files) == (1, 2, [])
    (processed,) = (folder / "processed").iterdir()
    assert processed.name.endswith("-stock.jsonl")
    assert [erp_id for erp_id, _ in queued(store)] == ["P1", "C1"]
    assert queued(store)[1][1] == f"{processed.name}:2"
    assert sorted(p.name for p in folder.iterdir()) == [
        "failed",
        "processed",
        "stock.jsonl.part",
        "work",
    ], "files not named *.jsonl wait"
    assert DropDirectory(folder, store, CODEC, settle_s=0).pick_up().files == 0, (
        "never processed twice"
    )


def test_bad_file_goes_to_failed_with_an_error_file(store: Store, folder: Path) -> None:
    """One bad line: nothing of the file is queued; failed/ holds it and its .error."""
    write_lines(folder / "prices.jsonl", GOOD[0], {"type": "product", "id": "P2", "price": 5})
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.failed_files and queued(store) == []
    (error,) = (folder / "failed").glob("*.error")
    original = error.with_suffix("")
    assert original.exists() and original.name.endswith("-prices.jsonl")
    assert error.read_text() == (
        f"{original.name}:2: price: unknown field (Product has no element 'price'; valid: brand, "
        "collection, comment, countryoforigin, description, folder, harmcode, id, media, "
        "metadata, sku, status, variations, weight)\n"
    )


def test_crash_after_queueing_does_not_queue_twice(store: Store, folder: Path) -> None:
    """A file left in work/ whose records were committed is only moved on; one left before
    its commit is queued now."""
    dropper = DropDirectory(folder, store, CODEC, settle_s=0)
    dropper.pick_up()
    done = folder / "work" / "20261126T000000-aaaaaaaa-done.jsonl"
    write_lines(done, *GOOD)
    with store.transaction() as session:  # queued, then the crash before the move
        records = parse_lines(done.read_text(), done.name, CODEC)
        outbox_rows.add_records(session, records, utcnow(), f"dropdir:{done.name}")
    pending = write_lines(folder / "work" / "20261126T000001-bbbbbbbb-next.jsonl", GOOD[0])
    report = dropper.pick_up()
    assert report.records == 1
    assert [erp_id for erp_id, _ in queued(store)] == ["P1", "C1", "P1"]
    assert sorted(p.name for p in (folder / "processed").iterdir()) == sorted(
        [done.name, pending.name]
    )
    assert list((folder / "work").glob("*.jsonl")) == []


def test_concurrent_pick_ups_take_each_file_once(store: Store, folder: Path) -> None:
    """Pick-ups racing over forty files: every record is queued exactly once, none is left."""
    for number in range(40):
        write_lines(folder / f"f{number:02}.jsonl", {"type": "product", "id": f"P{number}"})
    errors: list[BaseException] = []

    def pick_up() -> None:
        try:
            DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pick_up) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    DropDirectory(folder, store, CODEC, settle_s=0).pick_up()  # whatever a busy directory left
    assert errors == []
    ids = [erp_id for erp_id, _ in queued(store)]
    assert sorted(ids) == sorted(f"P{n}" for n in range(40))
    assert len(list((folder / "processed").iterdir())) == 40


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator(username="erp", password=PASSWORD, seed=4) as running:
        yield running


def test_push_without_files_picks_up_the_drop_directory(
    tmp_path: Path, folder: Path, simulator: Simulator
) -> None:
    """centra-bridge push: the drop directory's files are queued and sent; a bad one named."""
    config = write_config(
        tmp_path, simulator.url, PASSWORD, extra=f'[outbox]\ndirectory = "{folder}"\n'
    )
    write_lines(folder / "a.jsonl", *GOOD)
    (folder / "b.jsonl").write_text(json.dumps({"type": "customer"}) + "\n")
    result = run_bridge("--config", str(config), "push")
    assert result.returncode == 6, result.stderr
    assert result.stdout.startswith("pushed: files=2 queued=2 sent=2 failed=0 dead=0")
    assert "-b.jsonl" in result.stdout
    assert sorted(simulator.products) == ["P1"] and sorted(simulator.customers) == ["C1"]


def test_a_file_nobody_could_read_never_blocks_the_next(store: Store, folder: Path) -> None:
    """A directory named like a drop file goes to failed/; the good file beside it is queued."""
    (folder / "a-broken.jsonl").mkdir()
    write_lines(folder / "b-good.jsonl", *GOOD)
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert [erp_id for erp_id, _ in queued(store)] == ["P1", "C1"]
    assert len(report.failed_files) == 1
    (error,) = (folder / "failed").glob("*.error")
    assert "cannot be queued: IsADirectoryError" in error.read_text()


def test_queue_only_without_files_queues_the_drop_directory(
    tmp_path: Path, folder: Path, simulator: Simulator
) -> None:
    """centra-bridge push --queue-only: the drop directory's records are queued, not sent."""
    config = write_config(
        tmp_path, simulator.url, PASSWORD, extra=f'[outbox]\ndirectory = "{folder}"\n'
    )
    write_lines(folder / "a.jsonl", *GOOD)
    result = run_bridge("--config", str(config), "push", "--queue-only")
    assert result.returncode == 0, result.stderr
    assert "files=1 queued=2 sent=0" in result.stdout
    assert simulator.products == {} and simulator.customers == {}


def test_only_regular_files_are_read(store: Store, folder: Path, tmp_path: Path) -> None:
    """A FIFO, a symlink (to a secret, or to /dev/zero) and a directory named *.jsonl go to
    failed/ with a one-line .error, unread; the good file beside them is queued."""
    secret = tmp_path / "shadow"
    secret.write_text('{"type": "customer", "id": "ROOT", "firstname": "hunter2"}\n')
    os.mkfifo(folder / "a-fifo.jsonl")
    (folder / "b-link.jsonl").symlink_to(secret)
    (folder / "c-zero.jsonl").symlink_to("/dev/zero")
    (folder / "d-dir.jsonl").mkdir()
    write_lines(folder / "e-good.jsonl", *GOOD)
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert (report.files, report.records, len(report.failed_files)) == (5, 2, 4)
    errors = {
        path.name.split("-", 2)[-1]: path.read_text()
        for path in (folder / "failed").glob("*.error")
    }
    assert errors.keys() == {
        "a-fifo.jsonl.error",
        "b-link.jsonl.error",
        "c-zero.jsonl.error",
        "d-dir.jsonl.error",
    }
    assert "(a FIFO); not read" in errors["a-fifo.jsonl.error"]
    assert "(a symlink); not read" in errors["b-link.jsonl.error"]
    assert "(a symlink); not read" in errors["c-zero.jsonl.error"]
    assert "cannot be queued: IsADirectoryError" in errors["d-dir.jsonl.error"]
    assert all(text.count("\n") == 1 for text in errors.values())
    assert not any("hunter2" in text or "ROOT" in text for text in errors.values())
    assert [erp_id for erp_id, _ in queued(store)] == ["P1", "C1"]


def test_push_of_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    """push FIFO names the file and exits 2 at once, instead of waiting for a writer forever."""
    fifo = tmp_path / "stock.jsonl"
    os.mkfifo(fifo)
    config = write_config(tmp_path, "http://127.0.0.1:9/x", PASSWORD)
    result = run_bridge("--config", str(config), "push", "--queue-only", str(fifo), timeout=30)
    assert result.returncode == 2, result.stderr
    assert f"{fifo}:0: -: not a regular file (a FIFO); not read" in result.stderr


def many(count: int, start: int = 0) -> list[dict[str, object]]:
    return [{"type": "product", "id": f"P{n}", "sku": f"S{n}"} for n in range(start, count)]


def statuses(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return outbox_rows.count_by_status(session)


def test_a_file_larger_than_a_chunk_is_queued_whole_or_not_at_all(
    store: Store, folder: Path
) -> None:
    """2,500 records cross two chunk commits: with a bad last line nothing of the file is
    due (its staged records are gone); the good file is queued in its order."""
    bad = [*many(2_500), {"type": "product", "id": "P-bad", "price": 1}]
    write_lines(folder / "a-bad.jsonl", *bad)
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.failed_files and queued(store) == [] and statuses(store) == {}
    (error,) = (folder / "failed").glob("*.error")
    assert error.read_text().startswith(f"{error.stem}:2501: price: unknown field")
    write_lines(folder / "b-good.jsonl", *many(2_500))
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.records == 2_500
    assert [erp_id for erp_id, _ in queued(store)] == [f"P{n}" for n in range(2_500)]
    assert statuses(store) == {"queued": 2_500}


def test_what_a_crash_left_staged_is_never_sent_and_the_file_is_read_again(
    store: Store, folder: Path
) -> None:
    """A pick-up killed between chunk commits leaves staged records and the file in work/:
    the next pick-up deletes them, reads the file again and queues each record once."""
    DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    left = write_lines(folder / "work" / "20261201T000000-cccccccc-big.jsonl", *many(1_500))
    with store.transaction() as session:
        records = parse_lines(left.read_text(), left.name, CODEC)[:1_000]
        outbox_rows.add_records(
            session, records, utcnow(), f"dropdir:{left.name}", status=OutboxStatus.STAGED
        )
    with store.transaction() as session:
        assert outbox_rows.due_records(session, utcnow(), 10) == [], "staged is never due"
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.records == 1_500
    assert [erp_id for erp_id, _ in queued(store)] == [f"P{n}" for n in range(1_500)]
    assert statuses(store) == {"queued": 1_500}


def test_a_shutdown_while_a_file_is_read_leaves_it_for_the_next_pick_up(
    store: Store, folder: Path
) -> None:
    """Stop asked for mid-file: nothing of it is queued, it stays in work/, and the next
    pick-up queues it whole."""
    write_lines(folder / "big.jsonl", *many(2_500))
    stop = threading.Event()
    codec = _OnCheck(CODEC, after=1_200, action=stop.set)
    report = DropDirectory(folder, store, codec, settle_s=0).pick_up(stop)
    assert (report.files, report.records) == (0, 0)
    assert statuses(store) == {} and len(list((folder / "work").glob("*.jsonl"))) == 1
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.records == 2_500 and statuses(store) == {"queued": 2_500}


def test_a_file_written_in_place_waits_until_it_is_unchanged(store: Store, folder: Path) -> None:
    """An ERP appending to stock.jsonl itself (no rename): the file is not taken while it
    changes, and once it has settled every line of it is queued."""
    target = write_lines(folder / "stock.jsonl", *many(2))
    writer = threading.Timer(0.3, lambda: _append(target, many(3, start=2)))
    writer.start()
    report = DropDirectory(folder, store, CODEC, settle_s=1.0).pick_up()
    writer.join()
    assert report.files == 0 and target.exists(), "a file still being written is left alone"
    report = DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    assert report.records == 3


def test_a_file_that_changes_while_it_is_read_is_rejected_not_half_queued(
    store: Store, folder: Path
) -> None:
    """The ERP writes on through the file it renamed too early: nothing is queued and the
    .error says how to drop a file."""
    target = write_lines(folder / "stock.jsonl", *many(3))
    work = folder / "work"
    codec = _OnCheck(CODEC, after=1, action=lambda: _append(next(work.glob("*.jsonl")), many(4, 3)))
    report = DropDirectory(folder, store, codec, settle_s=0).pick_up()
    assert report.failed_files and statuses(store) == {} and not target.exists()
    (error,) = (folder / "failed").glob("*.error")
    assert error.read_text() == (
        f"{error.stem}:0: -: changed while being read: write the file under another name, "
        "then rename it to *.jsonl\n"
    )


def test_an_endless_line_is_refused_without_reading_it_whole(store: Store, folder: Path) -> None:
    """A 9 MB line is one problem with its line number; the lines after it are still checked."""
    with (folder / "huge.jsonl").open("w", encoding="utf-8") as file:
        file.write(json.dumps(GOOD[0]) + "\n")
        file.write('{"type": "product", "id": "P2", "description": "' + "x" * 9_000_000 + '"}\n')
        file.write('{"type": "product"}\n')
    DropDirectory(folder, store, CODEC, settle_s=0).pick_up()
    (error,) = (folder / "failed").glob("*.error")
    assert error.read_text().splitlines() == [
        f"{error.stem}:2: -: too long: over {MAX_LINE_BYTES} bytes in one line",
        f"{error.stem}:3: id: required: the ERP's id of the object, a non-empty string",
    ]


def _append(path: Path, records: list[dict[str, object]]) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(json.dumps(record) + "\n" for record in records))


class _OnCheck:
    """The real codec, with ``action`` run once after ``after`` records were checked (an ERP
    or an operator acting while a file is read)."""

    def __init__(self, codec: Any, after: int, action: Callable[[], object]) -> None:
        self._codec, self._after, self._action, self._seen = codec, after, action, 0

    def update_problem(self, entity_type: str, fields: Any) -> tuple[str, str] | None:
        self._seen += 1
        if self._seen == self._after:
            self._action()
        return self._codec.update_problem(entity_type, fields)  # type: ignore[no-any-return]

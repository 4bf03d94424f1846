"""Commands that only read: no password, no site code, nothing created; no missing folder made."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import bridge_process
import pytest

from bridge.errors import ExitCode

PASSWORD = "pw-5b1e-read-only-test"
UNREACHABLE = "http://127.0.0.1:9/ams/system/service/module/soap/api"
bridge = bridge_process.run_bridge


def write_config(tmp_path: Path, extra: str = "") -> Path:
    return bridge_process.write_config(tmp_path, UNREACHABLE, PASSWORD, extra)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("centra-bridge: ")
    assert text in last


READ_ONLY = [
    ("status",),
    ("status", "--json"),
    ("ids", "list"),
    ("ids", "export"),
    ("replay", "--type", "order", "--dry-run"),
]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_a_mistyped_database_path_is_named_and_not_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A read-only command on a database that is not there says so (exit 7) and creates none."""
    config = write_config(tmp_path)
    result = bridge("--config", str(config), *command)
    assert_one_line_error(result, ExitCode.DATABASE, f"no SQLite database at {tmp_path}/bridge.db")
    assert result.stdout == ""
    assert list(tmp_path.glob("bridge.db*")) == []


def test_read_only_commands_need_neither_the_password_nor_the_handlers(tmp_path: Path) -> None:
    """An unreadable password file and a handler module that is not installed stop drain-events,
    not status or ids list; both name the database they read."""
    config = write_config(
        tmp_path, extra='[handlers.custom]\norder = "no_such_module_here:handle"\n'
    )
    config.write_text(
        config.read_text().replace(f'password = "{PASSWORD}"', 'password_file = "missing-pw"')
    )
    assert bridge("--config", str(config), "db", "upgrade").returncode == ExitCode.OK

    status = bridge("--config", str(config), "status", "--json")
    assert status.returncode == ExitCode.OK, status.stderr
    assert json.loads(status.stdout)["events"]["total"] == 0
    assert f"reading {tmp_path / 'bridge.db'}" in status.stderr
    listing = bridge("--config", str(config), "ids", "list")
    assert listing.returncode == ExitCode.OK, listing.stderr
    assert listing.stdout.strip() == "no mappings"

    drain = bridge("--config", str(config), "drain-events")
    assert_one_line_error(drain, ExitCode.CONFIG, "[centra] password_file: cannot read")


def test_a_file_that_is_no_bridge_database_is_left_alone(tmp_path: Path) -> None:
    """An empty file at the database path is named, never migrated by a read-only command."""
    config = write_config(tmp_path)
    (tmp_path / "bridge.db").touch()
    result = bridge("--config", str(config), "status")
    assert_one_line_error(result, ExitCode.DATABASE, "holds no centra-bridge schema")
    assert (tmp_path / "bridge.db").stat().st_size == 0


WRITERS = [
    ("status",),
    ("ids", "list"),
    ("ids", "set", "product", "SKU-1", "1"),
    ("db", "upgrade"),
    ("push", "--queue-only", "UPDATES"),
    ("push", "UPDATES"),
    ("replay", "1"),
    ("drain-events",),
    ("run",),
]


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_no_command_creates_a_missing_database_folder(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Whatever the command, a database folder that is not there is one line naming it, exit 7."""
    config = write_config(tmp_path)
    missing = tmp_path / "gone" / "b.db"
    config.write_text(config.read_text().replace("sqlite:///bridge.db", f"sqlite:///{missing}"))
    updates = tmp_path / "updates.jsonl"
    updates.write_text('{"type": "product", "id": "SKU-1", "name": "Shirt"}\n')
    argv = [str(updates) if arg == "UPDATES" else arg for arg in command]
    result = bridge("--config", str(config), *argv)
    assert_one_line_error(result, ExitCode.DATABASE, str(missing))
    assert not missing.parent.exists()

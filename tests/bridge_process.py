"""Running ``centra-bridge`` as a user does: a child process with its own config file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: The tests folder, so child processes can import tests/erp_double.py as a handler.
TESTS = Path(__file__).parent


def write_config(tmp_path: Path, endpoint: str, password: str, extra: str = "") -> Path:
    """A config for the simulator at ``endpoint``, a SQLite file beside it, fast retries."""
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[centra]\nendpoint = "{endpoint}"\nusername = "erp"\npassword = "{password}"\n'
        f"timeout = 5\nretry_base = 0.01\nretry_max = 0.05\n"
        f'[database]\nurl = "sqlite:///bridge.db"\n{extra}',
        encoding="utf-8",
    )
    return path


#: Variables a child must not inherit: our own settings, and systemd's (notify socket,
#: watchdog, journal), which would make it talk to the service manager of the test run.
_NOT_INHERITED = ("CENTRA_", "NOTIFY_", "WATCHDOG_", "JOURNAL_")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without our or systemd's variables, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(_NOT_INHERITED)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env | (extra or {})


def bridge_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bridge", *args]


def run_bridge(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one command to the end; its answer, logs and exit code come back."""
    return subprocess.run(
        bridge_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(env),
        check=False,
    )

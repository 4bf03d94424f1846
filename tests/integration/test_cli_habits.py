"""What a shell user expects of a command: quiet in a pipe, no colours on request, completion."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import bridge_process
from bridge_process import bridge_command, child_env

from bridge.errors import ExitCode

UNREACHABLE = "http://127.0.0.1:9/ams/system/service/module/soap/api"
bridge = bridge_process.run_bridge


def test_a_pipe_closed_early_ends_quietly(tmp_path: Path) -> None:
    """``ids list | head -1``: no BrokenPipeError traceback, the exit code of SIGPIPE."""
    config = bridge_process.write_config(tmp_path, UNREACHABLE, "pw-1f2e-pipe-test")
    mappings = tmp_path / "ids.csv"
    rows = "".join(f"product,SKU-{n},{n}\n" for n in range(1, 5001))
    mappings.write_text("entity_type,erp_id,centra_id\n" + rows)
    imported = bridge("--config", str(config), "ids", "import", str(mappings))
    assert imported.returncode == ExitCode.OK, imported.stderr

    child = subprocess.Popen(
        bridge_command("--config", str(config), "ids", "list"),
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().startswith("type")
    child.stdout.close()  # as head does after its first line
    stderr = child.stderr.read()
    assert child.wait(60) == ExitCode.BROKEN_PIPE
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def stderr_on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """What the command writes to stderr when stderr is a terminal."""
    leader, follower = pty.openpty()
    try:
        child = subprocess.Popen(
            bridge_command(*args),
            env=child_env(env),
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        child.wait(60)
    finally:
        os.close(leader)
    return output.decode(errors="replace")


def test_no_color_turns_colours_off_on_a_terminal(tmp_path: Path) -> None:
    """Log lines on a terminal are coloured, unless NO_COLOR is set (https://no-color.org)."""
    config = bridge_process.write_config(tmp_path, UNREACHABLE, "k9#Qz")  # warns: a short password
    args = ("--config", str(config), "config", "check")
    coloured = stderr_on_a_terminal(*args, env={})
    plain = stderr_on_a_terminal(*args, env={"NO_COLOR": "1"})
    assert "advised_min_chars" in coloured and "advised_min_chars" in plain
    assert "\x1b[" in coloured
    assert "\x1b[" not in plain


def test_shell_completion_script_and_answers(tmp_path: Path) -> None:
    """``completion bash`` prints a script; the shell's request completes commands and choices."""
    script = bridge("completion", "bash")
    assert script.returncode == ExitCode.OK, script.stderr
    assert "complete" in script.stdout and "centra-bridge" in script.stdout

    answers = tmp_path / "answers"
    for line, expected in (
        ("centra-bridge sta", {"status"}),
        ("centra-bridge ids list --type ", {"customer", "product"}),
    ):
        request = {
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(answers),
        }
        assert bridge(env=request).returncode == 0
        assert set(answers.read_text().replace("\v", " ").split()) == expected

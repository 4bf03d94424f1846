"""The layout stays as DESIGN.md draws it: few modules at the top, migrations frozen, and the
forbidden arrows checked (the import contracts in pyproject.toml, run by import-linter)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bridge

PACKAGE = Path(bridge.__file__).parent
#: DESIGN.md: the top of bridge/ holds the shared modules only; every part is a package.
MAX_TOP_LEVEL_MODULES = 8


def test_few_modules_at_the_top() -> None:
    """bridge/ keeps at most eight modules of its own; the parts live in their packages."""
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_migrations_import_nothing_of_the_bridge() -> None:
    """A migration is frozen when written: it must not change when the live code does."""
    versions = sorted((PACKAGE / "store" / "migrations" / "versions").glob("*.py"))
    assert versions
    for path in versions:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(name.split(".")[0] == "bridge" for name in names), (
                f"{path.name}:{node.lineno} imports {names}"
            )


def test_forbidden_arrows_are_absent() -> None:
    """import-linter finds none of the imports DESIGN.md forbids (store → centra, core → cli…)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout

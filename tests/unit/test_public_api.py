"""What a site's own code may import is ``bridge.__all__``; it changes only on purpose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bridge

#: Written out here so that any change to the public surface is a change to this test too.
PUBLIC = [
    "App",
    "BatchHandler",
    "BridgeError",
    "CentraError",
    "ConfigError",
    "EventRecord",
    "ExitCode",
    "Handler",
    "IdConflict",
    "InputError",
    "Outcome",
    "PermanentError",
    "Settings",
    "Sink",
    "handle_customer",
    "handle_order",
    "handle_product",
    "load_settings",
    "queue_updates",
]
README = Path(__file__).parents[2] / "README.md"


def test_public_names_are_what_they_were() -> None:
    """The exported names are exactly the documented ones."""
    assert sorted(bridge.__all__) == sorted(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    """Each name loads from ``bridge`` itself and says where it is defined."""
    value = getattr(bridge, name)
    assert getattr(value, "__module__", "").startswith("bridge.") or name == "Sink"


def test_errors_share_the_root() -> None:
    """Every error a site can catch is a BridgeError with its exit code."""
    for name in ("CentraError", "ConfigError", "IdConflict", "InputError"):
        error = getattr(bridge, name)
        assert issubclass(error, bridge.BridgeError)
        assert isinstance(error.exit_code, bridge.ExitCode)


def test_readme_names_only_public_paths() -> None:
    """The README points sites at ``bridge.X`` names only, never into the bridge's modules."""
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w./-])bridge\.([A-Za-z_][\w.]*)", text))
    named = {name.rstrip(".") for name in named}
    assert named, "the README shows how to use the public names"
    assert {name.split(".")[0] for name in named} <= set(PUBLIC), sorted(named)

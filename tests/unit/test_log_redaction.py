"""The log processor that keeps secrets out of every line."""

from __future__ import annotations

from bridge.logging import Redactor


def test_secret_keys_and_values_masked_at_any_depth() -> None:
    """Secret keys, the configured secret inside text, and URL credentials, nested or not."""
    redact = Redactor(["hunter2-long"])
    event = {
        "event": "call failed: login hunter2-long refused",
        "password": "anything",
        "context": {"db": "postgresql://bridge:pw@db/centra", "items": ["x hunter2-long y"]},
    }
    assert redact(None, "info", event) == {
        "event": "call failed: login ******** refused",
        "password": "********",
        "context": {"db": "postgresql://***:***@db/centra", "items": ["x ******** y"]},
    }


def test_short_secrets_do_not_mangle_lines() -> None:
    """A two-letter secret is not searched for: stars everywhere would give it away."""
    redact = Redactor(["pw"])
    assert redact(None, "info", {"event": "http://pw.example"}) == {"event": "http://pw.example"}

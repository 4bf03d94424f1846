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


def test_short_secrets_are_masked_too() -> None:
    """However short the configured password, it never reaches a log line."""
    redact = Redactor(["pw1", "pw1-long"])
    assert redact(None, "info", {"event": "Fault: login pw1 refused; pw1-long"}) == {
        "event": "Fault: login ******** refused; ********"
    }

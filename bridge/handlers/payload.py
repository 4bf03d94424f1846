"""Reading parsed Centra payloads without tripping over absent or empty elements."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def text(data: Any, *path: str) -> str:
    """The text at ``path`` ("customer", "id"), or "" when any step is missing or not text."""
    for key in path:
        if not isinstance(data, dict):
            return ""
        data = data.get(key)
    return data if isinstance(data, str) else ""


def items(data: Any, *path: str) -> list[dict[str, Any]]:
    """The repeated elements at ``path`` as a list of dicts; absent or empty gives []."""
    for key in path:
        if not isinstance(data, dict):
            return []
        data = data.get(key)
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def quantity(value: str, where: str) -> Decimal:
    """A quantity Centra sent as text; "" counts as 0, anything unparsable is an error."""
    if not value.strip():
        return Decimal(0)
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{where}: quantity {value!r} is not a number") from None


def plain(number: Decimal) -> str:
    """A Decimal as plain text without exponent or trailing zeros ("3", "1.5")."""
    text_ = format(number.normalize(), "f")
    return text_ if text_ != "-0" else "0"

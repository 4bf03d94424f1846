"""Masks secrets Centra itself puts in payloads before they are stored or delivered.

Account events carry each buyer's ``<password>`` (centra-soap.md §4.4). The bridge keeps what
Centra sent, except the text of these elements.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

#: Local names of elements whose text is a secret.
SECRET_ELEMENTS = ("password",)
MASK = "********"

_NAMES = "|".join(SECRET_ELEMENTS)
#: The element's text: plain characters and CDATA sections.
_TEXT = r"(?:[^<]|<!\[CDATA\[.*?\]\]>)*"
_ELEMENT = re.compile(
    rf"(<(?P<prefix>[\w.-]+:)?(?P<name>{_NAMES})(?:\s[^>]*)?>){_TEXT}(</(?P=prefix)?(?P=name)\s*>)",
    re.DOTALL,
)
_ELEMENT_BYTES = re.compile(_ELEMENT.pattern.encode(), re.DOTALL)

Text = TypeVar("Text", str, bytes)


def mask_xml(xml: Text) -> Text:
    """``xml`` with the text of every secret element replaced by the mask."""
    if isinstance(xml, bytes):
        return _ELEMENT_BYTES.sub(rb"\1" + MASK.encode() + rb"\4", xml)
    return _ELEMENT.sub(r"\1" + MASK + r"\4", xml)


def mask_payload(value: Any) -> Any:
    """A parsed payload with the value of every secret key replaced by the mask."""
    if isinstance(value, dict):
        return {
            key: MASK
            if key in SECRET_ELEMENTS and isinstance(item, str) and item
            else mask_payload(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_payload(item) for item in value]
    return value

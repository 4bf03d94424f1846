"""Masks secrets Centra itself puts in payloads before they are stored.

Account events carry each buyer's ``<password>`` (centra-soap.md §4.4). The bridge keeps what
Centra sent, except the text of these elements; payloads are read from the stored XML, so
they never hold the secret either.
"""

from __future__ import annotations

import re
from typing import TypeVar

#: Local names of elements whose text is a secret.
SECRET_ELEMENTS = ("password",)
MASK = "********"

_NAMES = "|".join(SECRET_ELEMENTS)
#: The element's text, at least one character (an empty password stays empty): plain
#: characters and CDATA sections.
_TEXT = r"(?:[^<]|<!\[CDATA\[.*?\]\]>)+"
_ELEMENT = re.compile(
    rf"(<(?P<prefix>[\w.-]+:)?(?P<name>{_NAMES})(?:\s[^>]*)?>){_TEXT}(</(?P=prefix)?(?P=name)\s*>)",
    re.DOTALL,
)
_ELEMENT_BYTES = re.compile(_ELEMENT.pattern.encode(), re.DOTALL)
_SECRET_BYTES = tuple(name.encode() for name in SECRET_ELEMENTS)

Text = TypeVar("Text", str, bytes)


def mask_xml(xml: Text) -> Text:
    """``xml`` with the text of every secret element replaced by the mask.

    Most answers hold no secret at all: a substring test spares them the regular expression.
    """
    if isinstance(xml, bytes):
        if not any(name in xml for name in _SECRET_BYTES):
            return xml
        return _ELEMENT_BYTES.sub(rb"\1" + MASK.encode() + rb"\4", xml)
    if not any(name in xml for name in SECRET_ELEMENTS):
        return xml
    return _ELEMENT.sub(r"\1" + MASK + r"\4", xml)

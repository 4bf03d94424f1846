"""Secrets inside Centra's own payloads are masked before they are kept."""

from __future__ import annotations

from bridge.centra.redact import MASK, mask_payload, mask_xml


def test_password_elements_masked_in_xml_text_and_bytes() -> None:
    """Prefixed, default-namespace and attributed password elements all lose their text."""
    xml = (
        "<ns1:buyer><ns1:password>hunter2</ns1:password><ns1:email>a@b.se</ns1:email>"
        '<password type="x">p&amp;w</password><ns1:passwordhint>kept</ns1:passwordhint>'
        "</ns1:buyer>"
    )
    masked = mask_xml(xml)
    assert "hunter2" not in masked
    assert "p&amp;w" not in masked
    assert f"<ns1:password>{MASK}</ns1:password>" in masked
    assert "<ns1:email>a@b.se</ns1:email>" in masked
    assert "<ns1:passwordhint>kept</ns1:passwordhint>" in masked
    assert mask_xml(xml.encode()) == masked.encode()


def test_password_keys_masked_at_any_depth() -> None:
    """Nested buyers' passwords are masked; empty ones and other keys stay as they were."""
    payload = {"id": "A1", "buyers": [{"id": "B1", "password": "hunter2"}], "password": ""}
    assert mask_payload(payload) == {
        "id": "A1",
        "buyers": [{"id": "B1", "password": MASK}],
        "password": "",
    }


def test_cdata_password_masked() -> None:
    """A password wrapped in CDATA loses its text too."""
    masked = mask_xml("<ns1:password><![CDATA[a<b>c]]></ns1:password><ns1:id>1</ns1:id>")
    assert masked == f"<ns1:password>{MASK}</ns1:password><ns1:id>1</ns1:id>"

"""Secrets inside Centra's own payloads are masked before they are kept."""

from __future__ import annotations

from bridge.centra.soap.flavors import CENTRA_NS, MAIN_WSDL, wsdl_dir
from bridge.centra.soap.parse import event_payload
from bridge.centra.soap.redact import MASK, mask_xml
from bridge.centra.soap.schema import load_schema


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


def test_payload_read_from_masked_xml_holds_no_password() -> None:
    """Handlers read payloads from the stored (masked) XML: nested buyers' passwords are masked,
    empty ones stay empty."""
    xml = (
        f'<ns1:event xmlns:ns1="{CENTRA_NS}"><ns1:id>1</ns1:id><ns1:type>account</ns1:type>'
        "<ns1:data><ns1:account><ns1:id>A1</ns1:id><ns1:password></ns1:password>"
        "<ns1:buyers><ns1:buyer><ns1:id>B1</ns1:id><ns1:password>hunter2</ns1:password>"
        "</ns1:buyer></ns1:buyers></ns1:account></ns1:data></ns1:event>"
    )
    payload = event_payload(mask_xml(xml), load_schema(wsdl_dir() / MAIN_WSDL))
    assert "hunter2" not in repr(payload)
    assert payload["password"] == ""
    assert payload["buyers"][0]["password"] == MASK


def test_text_without_secrets_is_returned_as_it_is() -> None:
    """No secret element: the very same object comes back (the fast path of every order)."""
    xml = "<ns1:order><ns1:id>30</ns1:id><ns1:passwd>x</ns1:passwd></ns1:order>"
    assert mask_xml(xml) is xml
    assert mask_xml(xml.encode()) == xml.encode()


def test_cdata_password_masked() -> None:
    """A password wrapped in CDATA loses its text too."""
    masked = mask_xml("<ns1:password><![CDATA[a<b>c]]></ns1:password><ns1:id>1</ns1:id>")
    assert masked == f"<ns1:password>{MASK}</ns1:password><ns1:id>1</ns1:id>"

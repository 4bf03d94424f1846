"""Finds the project's WSDL files and points their ``soap:address`` at the simulator."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from bridge.centra.soap.flavors import wsdl_dir
from bridge.simulator.soap import safe_parser

_ADDRESS_TAGS = (
    "{http://schemas.xmlsoap.org/wsdl/soap/}address",
    "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
)


class WsdlUnavailable(Exception):
    """The WSDL file is missing or not well-formed."""


def find_wsdl_dir() -> Path | None:
    """Where the client loads its WSDLs from (``<package>/wsdl``, else ``<repo>/wsdl``), or None
    when they are missing: the simulator still serves SOAP, only ``?wsdl`` answers 404."""
    try:
        return wsdl_dir()
    except FileNotFoundError:
        return None


def rewritten_wsdl(path: Path, location: str) -> bytes:
    """The WSDL at ``path`` with every SOAP address set to ``location``."""
    try:
        root = etree.fromstring(path.read_bytes(), safe_parser())
    except OSError as exc:
        raise WsdlUnavailable(f"WSDL not found: {path}") from exc
    except etree.XMLSyntaxError as exc:
        raise WsdlUnavailable(f"WSDL is not well-formed: {path}: {exc}") from exc
    for tag in _ADDRESS_TAGS:
        for address in root.iter(tag):
            address.set("location", location)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")

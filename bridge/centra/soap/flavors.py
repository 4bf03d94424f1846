"""Centra's three SOAP endpoints ("flavors") and where their WSDL files live.

Centra serves the same operations and structures on three endpoints that differ in namespace
and in how the login travels (centra-soap.md §1.1). The flavor is picked once, when the client
is built, so no call site ever branches on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.config import CentraSettings

CENTRA_NS = "http://www.centra.com/webservices/"
SILKVMS_NS = "http://www.silkvms.com/webservices/"
MAIN_WSDL = "centra-soap-api.wsdl"
#: The installed ``bridge`` package directory.
PACKAGE_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Flavor:
    """What differs between the endpoints: WSDL file, body namespace and login transport."""

    name: str
    wsdl_file: str
    namespace: str
    #: Send ``<login><username/><password/></login>`` as the first child of every request.
    login_in_body: bool
    #: Send the credentials as HTTP Basic auth instead.
    basic_auth: bool

    @property
    def wsdl_path(self) -> Path:
        return wsdl_dir() / self.wsdl_file

    @property
    def binding(self) -> str:
        """The qualified binding name ``client.create_service`` expects."""
        return f"{{{self.namespace}}}CentraBinding"


def wsdl_dir(package: Path = PACKAGE_DIR) -> Path:
    """The directory holding the WSDL files, for the ``bridge`` package at ``package``.

    An installed wheel carries them inside the package (``bridge/wsdl/``, force-included by
    pyproject); a source checkout or an editable install has them at ``<repo>/wsdl/``.
    """
    candidates = (package / "wsdl", package.parent / "wsdl")
    for candidate in candidates:
        if (candidate / MAIN_WSDL).is_file():
            return candidate
    raise FileNotFoundError(
        f"{MAIN_WSDL} is in neither {candidates[0]} nor {candidates[1]}; incomplete installation"
    )


def flavor_for(settings: CentraSettings) -> Flavor:
    """The flavor named by ``settings.flavor``.

    ``navision-api``: Centra's samples for this endpoint carry no ``<login>`` and the docs do
    not say how credentials travel (centra-soap.md §8 U2). We assume HTTP Basic auth by
    default (``navision_api_login = "basic"``); ``"body"`` sends the ``<login>`` element as on
    the other endpoints. Either way only one of the two is sent.
    """
    if settings.flavor == "soap":
        return Flavor("soap", MAIN_WSDL, CENTRA_NS, login_in_body=True, basic_auth=False)
    if settings.flavor == "navision-soap":
        return Flavor(
            "navision-soap", "navision-soap.wsdl", SILKVMS_NS, login_in_body=True, basic_auth=False
        )
    if settings.flavor == "navision-api":
        basic = settings.navision_api_login == "basic"
        return Flavor(
            "navision-api",
            "navision-api.wsdl",
            SILKVMS_NS,
            login_in_body=not basic,
            basic_auth=basic,
        )
    raise ValueError(f"unknown Centra flavor {settings.flavor!r}")


def update_wrapper(entity_type: str) -> str:
    """The wrapper element of ``entity_type``'s update operation: every Centra
    ``*_Update`` is named for the plural of its event type (``products_Update``)."""
    return f"{entity_type}s"

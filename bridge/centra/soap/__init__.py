"""The SOAP transport: ``CentraClient`` (a ``CentraPort``) and ``SoapCodec`` (an ``EventCodec``)
over the WSDL of one of Centra's three SOAP endpoints (``flavors``).

Only this package imports zeep; nothing of zeep, lxml or requests leaves it.
"""

from bridge.centra.soap.client import CentraClient
from bridge.centra.soap.codec import SoapCodec

__all__ = ["CentraClient", "SoapCodec"]

"""centra-bridge: connects a legacy ERP with Centra over Centra's SOAP API."""

__version__ = "0.1.0"

"""Centra's GraphQL object types ⇄ the bridge's event types (the SOAP ``type`` names).

Handlers, sinks and ``[handlers.custom]`` are keyed by the bridge's names ("order"); over
GraphQL the same objects are ``Order``, ``Customer``… (centra-next.md §3.5). A type without
a SOAP counterpart keeps its GraphQL name in lower case ("return", "shipment").
"""

from __future__ import annotations

from collections.abc import Iterable

#: GraphQL ``EventObjectType`` → the bridge's event type, where they differ beyond case.
_BRIDGE_TYPES = {
    "ProductSize": "size",
    "SalesRepresentative": "salesrep",
    "PaymentTerms": "paymentterm",
    "ShippingTerms": "shippingterm",
}
_OBJECT_TYPES = {bridge: graphql for graphql, bridge in _BRIDGE_TYPES.items()}
#: Every ``EventObjectType`` Centra documents (https://centra.dev/graphql/eventobjecttype.html).
OBJECT_TYPES = (
    "Account", "AdminUser", "Affiliate", "AllocationRule", "Brand", "BrickAndMortar", "Bundle",
    "Buyer", "Campaign", "Category", "Collection", "Country", "Currency", "Customer",
    "DeliveryWindow", "Display", "EmailHistoryEntry", "Folder", "GiftCertificateGenerator",
    "Invoice", "Language", "LowestPrice", "MappedAttribute", "Market", "MeasurementChart",
    "NewsletterSubscription", "Order", "OrderHistoryEntry", "PaymentHistoryEntry",
    "PaymentTerms", "Price", "PriceAlteration", "Pricelist", "Product", "ProductMedia",
    "ProductSize", "ProductVariant", "PurchaseOrder", "PurchaseOrderDelivery", "Return",
    "SalesRepresentative", "Shipment", "ShippingOption", "ShippingTerms", "SizeChart",
    "StockChange", "Store", "StorePlugin", "Subscription", "SubscriptionContract",
    "SubscriptionPlan", "Supplier", "TaxRule", "Voucher", "Warehouse", "Wishlist",
)  # fmt: skip
_BY_LOWER = {name.lower(): name for name in OBJECT_TYPES}


def bridge_type(object_type: str) -> str:
    """``Order`` → ``order``, ``SalesRepresentative`` → ``salesrep``."""
    return _BRIDGE_TYPES.get(object_type, object_type.lower())


def object_type(event_type: str) -> str | None:
    """The GraphQL object type of a bridge event type; None if Centra has none."""
    return _OBJECT_TYPES.get(event_type) or _BY_LOWER.get(event_type.lower())


def listener_types(event_types: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The object types to listen to: those of ``event_types`` Centra knows, and ``extra``
    (Centra's own names), each once, in a stable order. Unknown names are left out here and
    refused by Centra if given as ``extra``."""
    wanted = {found for name in event_types if (found := object_type(name))}
    return sorted(wanted | set(extra))

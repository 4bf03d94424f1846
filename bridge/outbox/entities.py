"""The one table of what the outbox pushes: the ERP-side entity types and their id map.

Every other part asks here: input checks (which ``type`` a record may have), the id map
(which types it translates), the command line (``ids --type``) and echo suppression (which
Centra events may show back a push). How a type travels to Centra (``products_Update`` over
SOAP) is the transport's business, behind ``bridge.centra.port``.
"""

from __future__ import annotations

#: Entity types the ERP knows by its own ids, translated through the id map.
MAPPED_TYPES = ("customer", "product")
#: Entity types the outbox pushes. An order is addressed by Centra's own id, which the ERP
#: learnt from the order event, so its id is sent as it is; a pricelist by its own id, with
#: the products in it translated through the product id map.
ENTITY_TYPES = (*MAPPED_TYPES, "order", "pricelist")
#: Types sent one object per call, so Centra's ``success=false`` belongs to that one object
#: (an order's shipment refused must not hold back another order's lock).
ONE_PER_CALL = ("order",)


def check_entity_type(entity_type: str) -> str:
    """``entity_type`` itself, or ValueError naming the types the id map knows."""
    if entity_type not in MAPPED_TYPES:
        raise ValueError(
            f"entity type must be one of {', '.join(MAPPED_TYPES)}, got {entity_type!r}"
        )
    return entity_type


def batch_size(entity_type: str, configured: int) -> int:
    """Records of ``entity_type`` per update call."""
    return 1 if entity_type in ONE_PER_CALL else configured

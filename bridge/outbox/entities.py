"""The one table of what the outbox pushes: the ERP-side entity types and their id map.

Every other part asks here: input checks (which ``type`` a record may have), the id map
(which types it translates), the command line (``ids --type``) and echo suppression (which
Centra events may show back a push). How a type travels to Centra (``products_Update`` over
SOAP) is the transport's business, behind ``bridge.centra.port``.
"""

from __future__ import annotations

#: Entity types the outbox pushes, and whose ids the id map translates.
ENTITY_TYPES = ("customer", "product")


def check_entity_type(entity_type: str) -> str:
    """``entity_type`` itself, or ValueError naming the types there are."""
    if entity_type not in ENTITY_TYPES:
        raise ValueError(
            f"entity type must be one of {', '.join(ENTITY_TYPES)}, got {entity_type!r}"
        )
    return entity_type

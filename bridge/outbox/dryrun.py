"""``push --dry-run``: the exact requests a push would send, shown instead of sent.

Records are grouped into calls as a push groups them and their ids translated as they would
be (read only); the transport builds each request without sending it (``EventCodec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from itertools import groupby
from typing import Any

from bridge.centra.port import EventCodec
from bridge.outbox.entities import MAPPED_TYPES
from bridge.outbox.entities import batch_size as entity_batch_size
from bridge.outbox.idmap import known_ids, translate
from bridge.outbox.input import ErpRecord
from bridge.outbox.prices import product_ids, with_centra_products
from bridge.store import Store


def batches(records: list[ErpRecord], batch_size: int) -> list[list[ErpRecord]]:
    """Records grouped as a push sends them: per entity type, ``batch_size`` per call, and a
    later update of an object in a later call than the one before it (order is kept)."""
    by_type: dict[str, list[list[ErpRecord]]] = {}
    for record in records:
        calls = by_type.setdefault(record.entity_type, [])
        taken = [i for i, call in enumerate(calls) if record.erp_id in {r.erp_id for r in call}]
        first = taken[-1] + 1 if taken else 0
        size = entity_batch_size(record.entity_type, batch_size)
        target = next((call for call in calls[first:] if len(call) < size), None)
        if target is None:
            target = []
            calls.append(target)
        target.append(record)
    return [call for calls in by_type.values() for call in calls]


def render_requests(
    codec: EventCodec, store: Store, records: list[ErpRecord], batch_size: int
) -> list[str]:
    """The requests, secrets masked, with ids translated as they would be (nothing stored)."""
    with store.reading() as session:
        translated = {
            (record.entity_type, record.erp_id): translate(
                session, record.entity_type, record.erp_id
            )[0]
            if record.entity_type in MAPPED_TYPES
            else record.erp_id
            for record in records
        }
        products = known_ids(
            session,
            "product",
            [i for r in records if r.entity_type == "pricelist" for i in product_ids(r.fields)],
        )
    records = [
        replace(record, fields=with_centra_products(record.fields, products))
        if record.entity_type == "pricelist"
        else record
        for record in records
    ]
    calls = batches(records, batch_size)
    return [
        request
        for entity_type, same_type in groupby(calls, key=lambda batch: batch[0].entity_type)
        for request in codec.preview_updates(
            entity_type, [[_payload(record, translated) for record in batch] for batch in same_type]
        )
    ]


def _payload(record: ErpRecord, translated: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    return {**record.fields, "id": translated[(record.entity_type, record.erp_id)]}

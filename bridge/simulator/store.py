"""The simulator's own copy of what ``*_Update`` sent: upserts, the partial-update rule and the
ID conversion table (centra-soap.md §4.1)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bridge.simulator.soap import Payload

#: Update operation → (wrapper element, item element); note ``paymentterms/paymentterms`` (§4.1).
UPDATE_OPERATIONS: dict[str, tuple[str, str]] = {
    "accounts_Update": ("accounts", "account"),
    "customers_Update": ("customers", "customer"),
    "deliverywindows_Update": ("deliverywindows", "deliverywindow"),
    "invoices_Update": ("invoices", "invoice"),
    "markets_Update": ("markets", "market"),
    "orders_Update": ("orders", "order"),
    "paymentterms_Update": ("paymentterms", "paymentterms"),
    "pricealterationdates_Update": ("pricealterationdates", "pricealterationdate"),
    "pricelists_Update": ("pricelists", "pricelist"),
    "products_Update": ("products", "product"),
    "salesreps_Update": ("salesreps", "salesrep"),
    "shippingterms_Update": ("shippingterms", "shippingterms"),
    "sizes_Update": ("sizes", "size"),
    "warehouses_Update": ("warehouses", "warehouse"),
}


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    """What Centra answers in ``result``: success, errors and notices."""

    success: bool
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def merge(old: Any, new: Any) -> Any:
    """Apply Centra's partial-update rule: elements present replace, absent ones stay.

    Dicts merge key by key; lists of items with ``id`` merge item by item (a stock update names
    only variation and size ids); anything else is replaced by the new value.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, value in new.items():
            merged[key] = merge(old[key], value) if key in old else value
        return merged
    if isinstance(old, list) and isinstance(new, list) and _all_have_ids(old + new):
        merged_items = list(old)
        positions = {item["id"]: index for index, item in enumerate(old)}
        for item in new:
            if item["id"] in positions:
                index = positions[item["id"]]
                merged_items[index] = merge(merged_items[index], item)
            else:
                positions[item["id"]] = len(merged_items)
                merged_items.append(item)
        return merged_items
    return new


def _all_have_ids(items: list[Any]) -> bool:
    return all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in items)


class ObjectStore:
    """Objects per kind, keyed by the ERP's id, plus the ERP id → internal id table.

    Not thread-safe on its own; the simulator guards it with one lock.
    """

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Payload]] = {}
        self.conversion: dict[str, dict[str, str]] = {}

    def upsert(self, kind: str, items: list[Payload | str]) -> UpdateOutcome:
        """Create or partially update each item on its own (U9: one bad item fails alone)."""
        errors: list[str] = []
        notices: list[str] = []
        objects = self.objects.setdefault(kind, {})
        table = self.conversion.setdefault(kind, {})
        for position, item in enumerate(items, start=1):
            if not isinstance(item, dict) or not str(item.get("id", "")).strip():
                # Invented wording: Centra's text for this case is not documented.
                errors.append(f"{kind} #{position}: missing <id>, {kind} not saved")
                continue
            erp_id, fresh = str(item["id"]), copy.deepcopy(item)
            if erp_id in objects:
                objects[erp_id] = merge(objects[erp_id], fresh)
            else:
                objects[erp_id] = fresh
                table[erp_id] = str(len(table) + 1)
                # Modelled on the captured "Added new size: …" notice (§6.1).
                notices.append(f"Added new {kind}: {erp_id}")
        return UpdateOutcome(success=not errors, errors=errors, notices=notices)

    def get(self, kind: str) -> dict[str, Payload]:
        """A deep copy of the stored objects of one kind, by ERP id."""
        return copy.deepcopy(self.objects.get(kind, {}))

    def conversion_table(self, kind: str) -> dict[str, str]:
        """ERP id → the simulator's internal numeric id (as text) for one kind."""
        return dict(self.conversion.get(kind, {}))

"""Prices as pricelists_Update leaves them: per pricelist, at product and at variation level
("not on the size level"), with Centra's partial-update rule (centra-next.md §2.1, §2.2).

Not thread-safe on its own; the simulator guards it with one lock.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.simulator.soap import Payload
from bridge.simulator.store import UpdateOutcome

#: The price fields of a product or variation row, in REF order; ``priceb`` is the recommended
#: retail price of a wholesale list, ``altered*`` the time-altered prices (§2.1).
PRICE_FIELDS = ("price", "priceb", "alteredprice", "alteredpriceb")
#: Pricelist header fields kept as sent.
HEADER_FIELDS = ("store", "type", "currency", "description")


@dataclass(frozen=True, slots=True)
class Price:
    """The prices of one product or variation in one pricelist (None: never sent)."""

    price: str | None = None
    priceb: str | None = None
    alteredprice: str | None = None
    alteredpriceb: str | None = None


@dataclass(slots=True)
class Pricelist:
    """One pricelist: its header and prices by product id and by (product, variation) id."""

    id: str
    store: str = ""
    type: str = ""
    currency: str = ""
    description: str = ""
    products: dict[str, Price] = field(default_factory=dict)
    variations: dict[tuple[str, str], Price] = field(default_factory=dict)


class Refused(Exception):
    """The pricelist is refused as a whole; the message goes into ``errors``."""


class PriceBook:
    """Pricelists by id, as pricelists_Update created and changed them."""

    def __init__(self) -> None:
        self._lists: dict[str, Pricelist] = {}

    def update(self, items: Sequence[Payload | str]) -> tuple[UpdateOutcome, list[Payload]]:
        """Apply each ``<pricelist>`` on its own (U9); returns the answer and the accepted items.

        Every refusal text is invented: Centra documents none (§1.4).
        """
        errors: list[str] = []
        accepted: list[Payload] = []
        for position, item in enumerate(items, start=1):
            list_id = str(item.get("id", "")).strip() if isinstance(item, dict) else ""
            if not isinstance(item, dict) or not list_id:
                errors.append(f"pricelist #{position}: missing <id>, pricelist not saved")
                continue
            candidate = copy.deepcopy(self._lists.get(list_id, Pricelist(list_id)))
            try:
                _apply(candidate, item, new=list_id not in self._lists)
            except Refused as exc:
                errors.append(f"Pricelist {list_id}: {exc}")
                continue
            self._lists[list_id] = candidate
            accepted.append(item)
        return UpdateOutcome(not errors, errors), accepted

    def get(self, list_id: str) -> Pricelist | None:
        """A copy of one pricelist, or None."""
        found = self._lists.get(list_id)
        return copy.deepcopy(found) if found is not None else None


def _apply(pricelist: Pricelist, item: Payload, *, new: bool) -> None:
    for key in HEADER_FIELDS:
        if key in item:
            setattr(pricelist, key, str(item[key]).strip())
    if new and not (pricelist.store and pricelist.currency):
        # Inferred: Centra cannot create a pricelist without knowing its store and currency.
        raise Refused("a new pricelist needs <store> and <currency>")
    items = item.get("items")
    for product in _list(items.get("product") if isinstance(items, dict) else None):
        product_id = _id(product, "a <product>")
        if _has_prices(product):
            old = pricelist.products.get(product_id, Price())
            pricelist.products[product_id] = _prices(old, product, product_id)
        for variation in _list(product.get("variation")):
            variation_id = _id(variation, f"product {product_id}: a <variation>")
            where = f"{product_id}/{variation_id}"
            if "sizes" in variation or "size" in variation:
                raise Refused(f"{where}: prices are set per product or variation, not per size")
            ids = (product_id, variation_id)
            pricelist.variations[ids] = _prices(
                pricelist.variations.get(ids, Price()), variation, where
            )


def _list(value: Any) -> list[Payload]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise Refused("a <product> or <variation> without <id>")
    return items


def _id(item: Payload, what: str) -> str:
    text = item.get("id")
    if not isinstance(text, str) or not text.strip():
        raise Refused(f"{what} without <id>")
    return text.strip()


def _has_prices(item: Payload) -> bool:
    return any(key in item for key in PRICE_FIELDS)


def _prices(old: Price, item: Payload, where: str) -> Price:
    """``old`` with the price fields ``item`` sends; each must be a non-negative amount."""
    sent: dict[str, str] = {}
    for key in PRICE_FIELDS:
        if key not in item:
            continue
        text = str(item[key]).strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise Refused(f"{where}: <{key}> {item[key]!r} is not a price") from None
        if not amount.is_finite() or amount < 0:
            raise Refused(f"{where}: <{key}> {item[key]!r} is not a price")
        sent[key] = text
    return replace(old, **sent)

"""events: no stored JSON payload; handlers read it from the event's XML when they run

The drain stored every event twice (its XML and a JSON copy of its payload); building the copy
was most of the drain's cost. The XML is what Centra sent and stays the one record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Rows read and rewritten at a time when the JSON copy is rebuilt.
_BATCH = 500

# What the downgrade needs of the WSDL, frozen as it was at this revision (wsdl/
# centra-soap-api.wsdl, read by the payload reader of the time): by path from the payload's
# root element, the list wrappers with their item's name, and the elements that repeat.
# The live reader may change; this revision's payloads may not.
_LIST_WRAPPERS = {
    "account/additionals": "additional",
    "account/addresses": "address",
    "account/buyers": "buyer",
    "account/salesrep/mastersalesrep": "salesrep",
    "order/additionals": "additional",
    "order/cancelled": "product",
    "order/cancelled/product/sizes": "size",
    "order/cancelled/product/sizes/size/supplierorderitems": "supplierorder",
    "order/cancelled/product/sizes/size/warehouseitems": "warehouse",
    "order/mastersalesrep": "salesrep",
    "order/mastersalesrep/salesrep/mastersalesrep": "salesrep",
    "order/products": "product",
    "order/products/product/sizes": "size",
    "order/products/product/sizes/size/supplierorderitems": "supplierorder",
    "order/products/product/sizes/size/warehouseitems": "warehouse",
    "order/salesrep/mastersalesrep": "salesrep",
    "order/shipments": "shipment",
    "order/shipments/shipment/products": "product",
    "order/shipments/shipment/products/product/sizes": "size",
    "order/shipments/shipment/products/product/sizes/size/supplierorderitems": "supplierorder",
    "order/shipments/shipment/products/product/sizes/size/warehouseitems": "warehouse",
    "order/shipments/shipment/refunds": "refund",
    "order/shipments/shipment/refunds/refund/products": "product",
    "order/shipments/shipment/refunds/refund/products/product/sizes": "size",
    "order/shipments/shipment/refunds/refund/products/product/sizes/size/supplierorderitems": "supplierorder",
    "order/shipments/shipment/refunds/refund/products/product/sizes/size/warehouseitems": "warehouse",
    "pricelist/items": "product",
    "product/media": "image",
    "product/metadata": "storemeta",
    "product/variations": "variation",
    "product/variations/variation/displays": "display",
    "product/variations/variation/displays/display/categories": "category",
    "product/variations/variation/displays/display/categoriesremove": "category",
    "product/variations/variation/displays/display/markets": "market",
    "product/variations/variation/displays/display/marketsremove": "market",
    "product/variations/variation/sizes": "size",
    "product/variations/variation/sizes/size/warehouseitems": "warehouse",
    "salesrep/mastersalesrep": "salesrep",
}
_REPEATED = frozenset(
    {
        "account/additionals/additional",
        "account/addresses/address",
        "account/buyers/buyer",
        "account/salesrep/mastersalesrep/salesrep",
        "invoice/items/additional",
        "invoice/items/invoiceitem",
        "order/additionals/additional",
        "order/cancelled/product",
        "order/cancelled/product/sizes/size",
        "order/cancelled/product/sizes/size/supplierorderitems/supplierorder",
        "order/cancelled/product/sizes/size/warehouseitems/warehouse",
        "order/mastersalesrep/salesrep",
        "order/payments/payment",
        "order/products/product",
        "order/products/product/sizes/size",
        "order/products/product/sizes/size/supplierorderitems/supplierorder",
        "order/products/product/sizes/size/warehouseitems/warehouse",
        "order/salesrep/mastersalesrep/salesrep",
        "order/shipments/shipment",
        "order/shipments/shipment/products/product",
        "order/shipments/shipment/products/product/sizes/size",
        "order/shipments/shipment/products/product/sizes/size/supplierorderitems/supplierorder",
        "order/shipments/shipment/products/product/sizes/size/warehouseitems/warehouse",
        "order/shipments/shipment/refunds/refund",
        "order/shipments/shipment/refunds/refund/products/product",
        "order/shipments/shipment/refunds/refund/products/product/sizes/size",
        "order/shipments/shipment/refunds/refund/products/product/sizes/size/supplierorderitems/supplierorder",
        "order/shipments/shipment/refunds/refund/products/product/sizes/size/warehouseitems/warehouse",
        "pricelist/items/product",
        "pricelist/items/product/variation",
        "product/media/image",
        "product/metadata/storemeta",
        "product/variations/variation",
        "product/variations/variation/displays/display",
        "product/variations/variation/displays/display/categories/category",
        "product/variations/variation/displays/display/categoriesremove/category",
        "product/variations/variation/displays/display/markets/market",
        "product/variations/variation/displays/display/marketsremove/market",
        "product/variations/variation/sizes/size",
        "product/variations/variation/sizes/size/warehouseitems/warehouse",
        "salesrep/mastersalesrep/salesrep",
    }
)


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("payload")


def downgrade() -> None:
    """Rebuild the JSON copy from each event's XML, as the earlier version expects it."""
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    events = sa.table(
        "events",
        sa.column("seq", sa.Integer()),
        sa.column("xml", sa.Text()),
        sa.column("payload", sa.JSON()),
    )
    bind = op.get_bind()
    last = 0
    while rows := bind.execute(
        sa.select(events.c.seq, events.c.xml)
        .where(events.c.seq > last)
        .order_by(events.c.seq)
        .limit(_BATCH)
    ).all():
        bind.execute(
            events.update()
            .where(events.c.seq == sa.bindparam("the_seq"))
            .values(payload=sa.bindparam("the_payload")),
            [{"the_seq": seq, "the_payload": _payload(xml)} for seq, xml in rows],
        )
        last = rows[-1].seq
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)


def _payload(xml: str) -> dict[str, Any]:
    """The child of the event's ``<data>`` as the earlier version read it; {} when there is
    none, or when the XML is damaged (one event never stops the rest)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        event = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return {}
    data = next((el for el in _elements(event) if _local(el) == "data"), None)
    content = None if data is None else next(iter(_elements(data)), None)
    if content is None:
        return {}
    value = _value(content, _local(content))
    return value if isinstance(value, dict) else {}


def _value(el: Any, path: str) -> Any:
    path = _folded(path)
    children = _elements(el)
    item = _LIST_WRAPPERS.get(path)
    if children and item is not None and all(_local(child) == item for child in children):
        return [_value(child, f"{path}/{item}") for child in children]
    if children:
        out: dict[str, Any] = {}
        doubled: set[str] = set()
        for child in children:
            name = _local(child)
            value = _value(child, f"{path}/{name}")
            if f"{path}/{name}" in _REPEATED:
                out.setdefault(name, []).append(value)
            elif name not in out:
                out[name] = value
            elif name in doubled:
                out[name].append(value)
            else:
                out[name] = [out[name], value]
                doubled.add(name)
        return out
    text = el.text or ""
    return [] if item is not None and not text.strip() else text


def _folded(path: str) -> str:
    """The path with a recursion folded once (``…/a/b/a/b`` → ``…/a/b``): a sales rep's
    master is a sales rep, to any depth, and the tables list the first level only."""
    parts = path.split("/")
    while len(parts) >= 4 and parts[-4:-2] == parts[-2:]:
        del parts[-2:]
    return "/".join(parts)


def _elements(el: Any) -> list[Any]:
    return [child for child in el if isinstance(child.tag, str)]


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)

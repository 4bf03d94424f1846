"""events: no stored JSON payload; handlers read it from the event's XML when they run

The drain stored every event twice (its XML and a JSON copy of its payload); building the copy
was most of the drain's cost. The XML is what Centra sent and stays the one record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Rows read and rewritten at a time when the JSON copy is rebuilt.
_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("payload")


def downgrade() -> None:
    """Rebuild the JSON copy from each event's XML, as the earlier version expects it."""
    from bridge.centra.errors import CentraProtocolError
    from bridge.centra.soap.flavors import MAIN_WSDL, wsdl_dir
    from bridge.centra.soap.parse import event_payload
    from bridge.centra.soap.schema import load_schema

    schema = load_schema(wsdl_dir() / MAIN_WSDL)

    def payload(xml: str) -> object:
        # A damaged event keeps its XML and gets an empty payload: one never stops the rest.
        try:
            return event_payload(xml, schema)
        except CentraProtocolError:
            return {}

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
            [{"the_seq": seq, "the_payload": payload(xml)} for seq, xml in rows],
        )
        last = rows[-1].seq
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)

"""events: keyed by (transport, event_id) instead of event_id

Centra's SOAP queue and its GraphQL Integration API events number their events
independently; an event is the same one only if the same transport sent the same id. Every
event stored so far came over SOAP.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transport", sa.String(length=16), server_default="soap", nullable=False)
        )
        batch_op.drop_constraint("uq_events_event_id", type_="unique")
        batch_op.create_unique_constraint("uq_events_transport", ["transport", "event_id"])


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_transport", type_="unique")
        batch_op.create_unique_constraint("uq_events_event_id", ["event_id"])
        batch_op.drop_column("transport")

"""events and outbox: what a person did by hand (note); events: echo and where the sink
delivered them

``events show`` tells what happened to an object without SQL: whether an event only showed
back a push, where its sink put it, and who retried or skipped it and why.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("echo", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("delivered_to", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("note")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("delivered_to")
        batch_op.drop_column("echo")

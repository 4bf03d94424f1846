"""outbox delivery: the id sent, Centra's request id, the input a record came from, its echo;
id map rows for Centra ids without an ERP id yet

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("id_map", schema=None) as batch_op:
        batch_op.alter_column("erp_id", existing_type=sa.String(length=255), nullable=True)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centra_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("input_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("echo_event_id", sa.String(length=255), nullable=True))
        batch_op.create_index(
            "ix_outbox_entity_type_centra_id", ["entity_type", "centra_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_entity_type_erp_id", ["entity_type", "erp_id"], unique=False
        )
        batch_op.create_index("ix_outbox_input_key", ["input_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_input_key")
        batch_op.drop_index("ix_outbox_entity_type_erp_id")
        batch_op.drop_index("ix_outbox_entity_type_centra_id")
        batch_op.drop_column("echo_event_id")
        batch_op.drop_column("request_id")
        batch_op.drop_column("input_key")
        batch_op.drop_column("centra_id")

    with op.batch_alter_table("id_map", schema=None) as batch_op:
        batch_op.alter_column("erp_id", existing_type=sa.String(length=255), nullable=False)

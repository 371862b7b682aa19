"""Payments keep a second provider id (an alias).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:33:15.946196
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provider_alias", sa.String(length=255), nullable=True))
        batch_op.create_index(
            "ix_payments_provider_alias", ["provider", "provider_alias"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_provider_alias")
        batch_op.drop_column("provider_alias")

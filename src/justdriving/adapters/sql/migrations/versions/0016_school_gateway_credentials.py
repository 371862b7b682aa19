"""Gateway credentials per school: a school's own PayPal client id, secret (encrypted at rest
under ACCOUNTING_TOKEN_KEY) and webhook id.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 17:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_credentials",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gateway_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_credentials_school_id"), ["school_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_credentials_school_id"))
    op.drop_table("gateway_credentials")

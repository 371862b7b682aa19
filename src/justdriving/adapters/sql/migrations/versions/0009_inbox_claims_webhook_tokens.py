"""Inbox rows are claimed with a lease, as outbox rows are; signature tokens seen by any process.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.create_table(
        "webhook_tokens",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("keep_until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "token"),
    )
    with op.batch_alter_table("webhook_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_tokens_keep_until", ["keep_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_tokens_keep_until")
    op.drop_table("webhook_tokens")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("lease_until")

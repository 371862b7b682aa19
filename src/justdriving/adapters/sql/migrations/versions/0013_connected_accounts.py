"""Connected accounts: each school's own Stripe account (Stripe Connect), found by its id
when Stripe's account and payment events name it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("connected_account_id", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_schools_connected_account", ["connected_account_id"])


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_constraint("uq_schools_connected_account", type_="unique")
        batch_op.drop_column("connected_account_id")

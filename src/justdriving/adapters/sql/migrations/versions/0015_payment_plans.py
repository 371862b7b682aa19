"""Payment plans: a package paid in instalments or a monthly fee, charged on the card on file;
each plan's next due charge is a column, so the worker finds what is due by an index.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_plans", schema=None) as batch_op:
        batch_op.create_index("ix_payment_plans_student", ["school_id", "student_id"], unique=False)
        batch_op.create_index("ix_payment_plans_next_due_at", ["next_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_plans_next_due_at")
        batch_op.drop_index("ix_payment_plans_student")
    op.drop_table("payment_plans")

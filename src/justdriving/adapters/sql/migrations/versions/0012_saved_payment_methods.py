"""Payment customers: the link between a student and their customer at the school's gateway,
through which cards are saved and charged without the student.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_customers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payment_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_customers_student", ["school_id", "student_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_customers_student")
    op.drop_table("payment_customers")

"""Columns for the money read model's newest-first pages: invoices by issue time, payments by
creation time (and their status), disputes by school and opening time.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 06:20:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_invoices_issued_at", ["issued_at"], unique=False)
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_payments_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("school_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_disputes_opened_at", ["opened_at"], unique=False)
    _backfill("invoices", lambda d: {"issued_at": _naive_utc(d.get("issued_at"))})
    _backfill(
        "payments",
        lambda d: {"status": d.get("status"), "created_at": _naive_utc(d.get("created_at"))},
    )
    _backfill(
        "disputes",
        lambda d: {"school_id": d.get("school_id"), "opened_at": _naive_utc(d.get("opened_at"))},
    )


def _backfill(name: str, values: Any) -> None:
    """Copy the new columns' values out of each record's stored document."""
    table = sa.table(name, sa.column("id", sa.String), sa.column("document", sa.JSON))
    connection = op.get_bind()
    for id_, document in connection.execute(sa.select(table.c.id, table.c.document)):
        new = values(document)
        target = sa.table(name, sa.column("id", sa.String), *(sa.column(c) for c in new))
        connection.execute(target.update().where(target.c.id == id_).values(**new))


def _naive_utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index("ix_disputes_opened_at")
        batch_op.drop_column("opened_at")
        batch_op.drop_column("school_id")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_created_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_issued_at")
        batch_op.drop_column("issued_at")

"""Bookings say which reminders they still await: the lesson's start per channel while its
reminder is undecided, under partial indexes, so finding what is due costs what is found.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:10:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHANNELS = ("sms", "email")
BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        for channel in CHANNELS:
            batch_op.add_column(sa.Column(f"{channel}_reminder_start", sa.DateTime()))
    for channel in CHANNELS:
        column = f"{channel}_reminder_start"
        op.create_index(
            f"ix_bookings_{channel}_reminder",
            "bookings",
            [column],
            unique=False,
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
        )
    _backfill()


def _backfill() -> None:
    """A confirmed lesson awaits each reminder its document does not list as decided (what
    Booking.awaiting_reminder says); other statuses await none, so their columns stay NULL."""
    table = sa.table(
        "bookings",
        sa.column("id", sa.String),
        sa.column("document", sa.JSON),
        sa.column("starts_at", sa.DateTime),
        sa.column("status", sa.String),
        *(sa.column(f"{channel}_reminder_start", sa.DateTime) for channel in CHANNELS),
    )
    connection = op.get_bind()
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("booking_id"))
        .values({f"{c}_reminder_start": sa.bindparam(f"new_{c}") for c in CHANNELS})
    )
    confirmed = sa.select(table.c.id, table.c.document, table.c.starts_at).where(
        table.c.status == "confirmed"
    )
    for batch in _batches(connection.execute(confirmed).all()):
        connection.execute(update, batch)


def _batches(found: Sequence[Any]) -> Iterator[list[dict[str, Any]]]:
    for offset in range(0, len(found), BATCH):
        batch = []
        for id_, document, starts_at in found[offset : offset + BATCH]:
            reminded = set(document.get("reminded") or ())
            row = {"booking_id": id_}
            for channel in CHANNELS:
                row[f"new_{channel}"] = None if channel in reminded else starts_at
            batch.append(row)
        yield batch


def downgrade() -> None:
    for channel in CHANNELS:
        op.drop_index(f"ix_bookings_{channel}_reminder", table_name="bookings")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        for channel in CHANNELS:
            batch_op.drop_column(f"{channel}_reminder_start")

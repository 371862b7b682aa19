"""Messages keep their channel, recipient and times as columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 13:47:05.120094
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False)
        )
        batch_op.add_column(
            sa.Column("recipient", sa.String(length=320), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_messages_recipient", ["channel", "recipient", "sent_at"], unique=False
        )
    _backfill()


def _backfill() -> None:
    """Copy each message's channel, recipient and times out of its stored document."""
    messages = sa.table(
        "messages",
        sa.column("id", sa.String),
        sa.column("document", sa.JSON),
        sa.column("channel", sa.String),
        sa.column("recipient", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("sent_at", sa.DateTime),
    )
    connection = op.get_bind()
    for id_, document in connection.execute(sa.select(messages.c.id, messages.c.document)):
        recipient = document["recipient"]
        address = recipient.get("e164") or recipient.get("value") or ""
        connection.execute(
            messages.update()
            .where(messages.c.id == id_)
            .values(
                channel=document["channel"],
                recipient=address.lower(),
                created_at=_naive_utc(document.get("created_at")),
                sent_at=_naive_utc(document.get("sent_at")),
            )
        )


def _naive_utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_recipient")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("recipient")
        batch_op.drop_column("channel")

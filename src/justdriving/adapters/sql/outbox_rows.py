"""The outbox's messages and the inbox's events as rows: plain columns (they are queried and
claimed by them), not documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from justdriving.adapters.sql import tables
from justdriving.adapters.sql.rows import RowMapper
from justdriving.domain.outbox import (
    InboxEvent,
    InboxStatus,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)


def _outbox_row(m: OutboxMessage) -> dict[str, Any]:
    return {
        "kind": m.kind.value,
        "school_id": m.school_id,
        "payload": dict(m.payload),
        "idempotency_key": m.idempotency_key,
        "status": m.status.value,
        "attempts": m.attempts,
        "created_at": m.created_at,
        "next_attempt_at": m.next_attempt_at,
        "last_error": m.last_error,
        "lease_until": m.lease_until,
        "claimed_by": m.claimed_by,
        "sent_at": m.sent_at,
    }


def _outbox_message(row: Mapping[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        kind=OutboxKind(row["kind"]),
        school_id=row["school_id"],
        payload=row["payload"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        lease_until=row["lease_until"],
        claimed_by=row["claimed_by"],
        sent_at=row["sent_at"],
    )


def _inbox_row(e: InboxEvent) -> dict[str, Any]:
    return {
        "provider": e.provider,
        "event_id": e.event_id,
        "event_type": e.event_type,
        "received_at": e.received_at,
        "body": e.body,
        "payload": dict(e.payload),
        "status": e.status.value,
        "attempts": e.attempts,
        "error": e.error,
        "processed_at": e.processed_at,
        "lease_until": e.lease_until,
        "claimed_by": e.claimed_by,
    }


def _inbox_event(row: Mapping[str, Any]) -> InboxEvent:
    return InboxEvent(
        id=row["id"],
        provider=row["provider"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        received_at=row["received_at"],
        body=bytes(row["body"]),
        payload=row["payload"],
        status=InboxStatus(row["status"]),
        attempts=row["attempts"],
        error=row["error"],
        processed_at=row["processed_at"],
        lease_until=row["lease_until"],
        claimed_by=row["claimed_by"],
    )


# Outbox and inbox rows are versioned too (two relays must never both claim one row), but
# their version lives only in the database: the domain records carry none.
OUTBOX = RowMapper(tables.outbox, "outbox message", _outbox_row, _outbox_message)
INBOX = RowMapper(tables.inbox, "inbox event", _inbox_row, _inbox_event)

"""The SQL outbox and inbox (claimed with row locks, so two workers never share a row) and the
one-time webhook tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from justdriving.adapters.sql import outbox_rows, rows, tables
from justdriving.adapters.sql.repositories import SqlRepository
from justdriving.adapters.sql.session import TrackedSession
from justdriving.domain.errors import NotFound
from justdriving.domain.outbox import (
    MAX_APPLY_ATTEMPTS,
    InboxEvent,
    InboxStatus,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)

_WAITING = (OutboxStatus.PENDING, OutboxStatus.DEFERRED, OutboxStatus.FAILED)


class SqlOutbox(SqlRepository[OutboxMessage]):
    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        return self._due(now, limit, lock=False)

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[OutboxMessage]:
        claimed = self._due(now, limit, lock=True)
        for message in claimed:
            message.claim(worker, now, lease)
        self._with_messages(claimed)
        return claimed

    def get_many(self, ids: Sequence[str]) -> Sequence[OutboxMessage]:
        """One SELECT for the rows (and one for the messages they send)."""
        if not ids:
            return []
        found = {row.id: row for row in self._where(self._table.c.id.in_(ids))}
        missing = [id for id in ids if id not in found]
        if missing:
            raise NotFound(self._mapper.kind, missing[0])
        rows_ = [found[id] for id in ids]
        self._with_messages(rows_)
        return rows_

    def _with_messages(self, claimed: Sequence[OutboxMessage]) -> None:
        """Load the messages the rows send in one SELECT, so that preparing and recording
        each row reads its message from this unit of work instead of querying for it."""
        ids = [
            str(row.payload["message_id"])
            for row in claimed
            if row.kind in (OutboxKind.SEND_SMS, OutboxKind.SEND_EMAIL)
        ]
        if ids:
            self._session.select(rows.MESSAGES, rows.MESSAGES.table.c.id.in_(ids))

    def _due(self, now: datetime, limit: int, *, lock: bool) -> list[OutboxMessage]:
        c = self._table.c
        waiting = and_(
            c.status.in_([s.value for s in _WAITING]),
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        )
        abandoned = and_(
            c.status == OutboxStatus.IN_FLIGHT.value,
            or_(c.lease_until.is_(None), c.lease_until <= now),
        )
        found: list[OutboxMessage] = self._session.select(
            self._mapper,
            or_(waiting, abandoned),
            order_by=c.created_at,
            limit=limit,
            for_update=lock,
        )
        return found

    def list(self, status: str | None = None) -> Sequence[OutboxMessage]:
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        return self._where(*conditions, order_by=c.created_at)

    def counts(self) -> Mapping[str, int]:
        """One GROUP BY status (over ix_outbox_due, whose first column is the status)."""
        self._session.flush()
        c = self._table.c
        query = select(c.status, func.count()).group_by(c.status)
        return {str(status): int(n) for status, n in self._session.connection.execute(query)}

    def purge_sent(self, before: datetime) -> int:
        """One DELETE, in this unit of work's transaction (takes effect on commit)."""
        self._session.flush()
        c = self._table.c
        old_and_sent = and_(c.status == OutboxStatus.SENT.value, c.sent_at < before)
        result = self._session.write(delete(self._table).where(old_and_sent))
        return int(result.rowcount)


class SqlInbox(SqlRepository[InboxEvent]):
    def add(self, event: InboxEvent) -> bool:  # type: ignore[override]
        """Insert unless (provider, event_id) is in already; the database decides, atomically."""
        self._session.flush()
        connection = self._session.connection
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(self._table).values(
            id=event.id, version=1, **outbox_rows.INBOX.to_row(event)
        )
        inserted = self._session.write(
            statement.on_conflict_do_nothing(index_elements=["provider", "event_id"]).returning(
                self._table.c.id
            )
        ).first()
        if inserted is None:
            return False
        self._session.adopt(outbox_rows.INBOX, event, version=1)
        return True

    def list(self, status: str | None = None) -> Sequence[InboxEvent]:
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        return self._where(*conditions, order_by=c.received_at)

    def recent(self, limit: int, status: str | None = None) -> Sequence[InboxEvent]:
        """ORDER BY received_at DESC LIMIT n, over ix_inbox_received_at (or ix_inbox_status)."""
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        found: list[InboxEvent] = self._session.select(
            self._mapper,
            *conditions,
            order_by=(c.received_at.desc(), c.id.desc()),
            limit=max(limit, 0),
        )
        return found

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[InboxEvent]:
        """SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite: one writer at a time)."""
        c = self._table.c
        waiting = and_(
            c.status.in_([InboxStatus.RECEIVED.value, InboxStatus.FAILED.value]),
            c.attempts < MAX_APPLY_ATTEMPTS,
        )
        abandoned = and_(
            c.status == InboxStatus.APPLYING.value,
            or_(c.lease_until.is_(None), c.lease_until <= now),
        )
        claimed: list[InboxEvent] = self._session.select(
            self._mapper,
            or_(waiting, abandoned),
            order_by=(c.received_at, c.id),
            limit=max(limit, 0),
            for_update=True,
        )
        for event in claimed:
            event.claim(worker, now, lease)
        return claimed


class SqlWebhookTokens:
    def __init__(self, session: TrackedSession) -> None:
        self._session = session
        self._table = tables.webhook_tokens

    def first_use(
        self, provider: str, token: str, event_id: str, keep_until: datetime, now: datetime
    ) -> bool:
        """One DELETE of what has expired, then INSERT … ON CONFLICT DO NOTHING: the database
        decides which of two processes saw the token first."""
        self._session.flush()
        c = self._table.c
        self._session.write(delete(self._table).where(c.keep_until < now))
        dialect = postgresql if self._session.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(self._table).values(
            provider=provider, token=token, event_id=event_id, keep_until=keep_until
        )
        inserted = self._session.write(
            statement.on_conflict_do_nothing(index_elements=["provider", "token"]).returning(
                c.token
            )
        ).first()
        return inserted is not None

"""The in-memory outbox and inbox (claimed by one worker at a time) and the one-time webhook
tokens."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from justdriving.adapters.memory.repositories import MemoryRepository
from justdriving.adapters.memory.tracking import Table
from justdriving.domain.outbox import InboxEvent, OutboxMessage, OutboxStatus, SeenToken


class MemoryOutbox(MemoryRepository[OutboxMessage]):
    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Claimable messages, oldest first (created_at, then id), at most `limit`."""
        return self._due(now)[: max(limit, 0)]

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[OutboxMessage]:
        """Claim due rows no other open unit of work is claiming, oldest first."""
        claimed: list[OutboxMessage] = []
        for row in self._due(now):
            if len(claimed) >= limit:
                break
            if self._table.lock(row.id):
                row.claim(worker, now, lease)
                claimed.append(row)
        return claimed

    def get_many(self, ids: Sequence[str]) -> Sequence[OutboxMessage]:
        return [self.get(id) for id in ids]

    def _due(self, now: datetime) -> list[OutboxMessage]:
        return self._table.select(lambda m: m.due(now), order=lambda m: (m.created_at, m.id))

    def list(self, status: str | None = None) -> Sequence[OutboxMessage]:
        return self._table.select(
            lambda m: status is None or m.status == status, order=lambda m: m.created_at
        )

    def counts(self) -> Mapping[str, int]:
        return dict(Counter(str(m.status) for m in self._table.select(lambda m: True)))

    def purge_sent(self, before: datetime) -> int:
        """In the fake the rows go at once (there is no deferred delete), not on commit."""

        def old_and_sent(m: OutboxMessage) -> bool:
            return m.status == OutboxStatus.SENT and m.sent_at is not None and m.sent_at < before

        return self._table.purge([m.id for m in self._table.select(old_and_sent)])


class MemoryInbox:
    def __init__(self, table: Table[InboxEvent]) -> None:
        self._table = table

    def add(self, event: InboxEvent) -> bool:
        """False, storing nothing, when the provider's event is already in (or added here)."""
        key = (event.provider, event.event_id)
        if self._table.select(lambda e: (e.provider, e.event_id) == key):
            return False
        self._table.add(event)
        return True

    def get(self, id: str) -> InboxEvent:
        return self._table.get(id)

    def list(self, status: str | None = None) -> Sequence[InboxEvent]:
        return self._table.select(
            lambda e: status is None or e.status == status, order=lambda e: e.received_at
        )

    def recent(self, limit: int, status: str | None = None) -> Sequence[InboxEvent]:
        found = self._table.select(
            lambda e: status is None or e.status == status, order=lambda e: (e.received_at, e.id)
        )
        return list(reversed(found))[: max(limit, 0)]

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[InboxEvent]:
        """Claim due rows no other open unit of work is claiming, oldest first."""
        claimed: list[InboxEvent] = []
        due = self._table.select(lambda e: e.due(now), order=lambda e: (e.received_at, e.id))
        for row in due:
            if len(claimed) >= limit:
                break
            if self._table.lock(row.id):
                row.claim(worker, now, lease)
                claimed.append(row)
        return claimed


class MemoryWebhookTokens:
    def __init__(self, table: Table[SeenToken]) -> None:
        self._table = table

    def first_use(
        self, provider: str, token: str, event_id: str, keep_until: datetime, now: datetime
    ) -> bool:
        key = SeenToken.key(provider, token)
        self._table.purge([t.id for t in self._table.select(lambda t: t.keep_until < now)])
        if not self._table.lock(key) or self._table.find(key) is not None:
            return False
        self._table.add(SeenToken(key, provider, token, event_id, keep_until))
        return True

"""In-memory repositories of what is sent and to whom not: outbound messages, suppressions and
the staff's alerts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from justdriving.adapters.memory.repositories import MemoryRepository, _one
from justdriving.domain.delivery import Suppression
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.staff_alerts import StaffAlert


class MemoryMessageRepository(MemoryRepository[OutboundMessage]):
    def by_provider_ref(self, provider: str, provider_message_id: str) -> OutboundMessage | None:
        ref = (provider, provider_message_id)
        return _one(self._table.select(lambda m: (m.provider, m.provider_message_id) == ref))

    def for_school(self, school_id: str) -> Sequence[OutboundMessage]:
        return self._table.select(lambda m: m.school_id == school_id, order=lambda m: m.created_at)

    def count_sent_to(self, channel: str, address: str, since: datetime) -> int:
        to = _to(channel, address)
        sent = self._table.select(lambda m: to(m) and m.sent_at is not None and m.sent_at >= since)
        return len(sent)

    def latest_to(self, channel: str, address: str) -> OutboundMessage | None:
        found = self._table.select(_to(channel, address), order=lambda m: m.created_at)
        return found[-1] if found else None

    def recent(self, limit: int) -> Sequence[OutboundMessage]:
        found = self._table.select(lambda m: True, order=lambda m: (m.created_at, m.id))
        return list(reversed(found))[: max(limit, 0)]


def _to(channel: str, address: str) -> Callable[[OutboundMessage], bool]:
    wanted = address.lower()
    return lambda m: m.channel == channel and str(m.recipient).lower() == wanted


class MemorySuppressions(MemoryRepository[Suppression]):
    def add(self, item: Suppression) -> None:
        item.id = Suppression.key(item.channel, item.address, item.school_id)
        existing = self._table.find(item.id)
        if existing is None:
            self._table.add(item)
        else:
            existing.reinstate(item.reason, item.created_at)

    def matching(self, channel: str, address: str, school_id: str) -> Suppression | None:
        return Suppression.in_force(lambda scope: self.find_key(channel, address, scope), school_id)

    def find_key(self, channel: str, address: str, school_id: str | None) -> Suppression | None:
        return self._table.find(Suppression.key(Channel(channel), address, school_id))


class MemoryStaffAlerts(MemoryRepository[StaffAlert]):
    def pending(self, limit: int) -> Sequence[StaffAlert]:
        found = self._table.select(lambda a: a.pending, order=lambda a: (a.created_at, a.id))
        return found[:limit]

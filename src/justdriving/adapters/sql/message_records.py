"""SQL repositories of what is sent and to whom not: outbound messages, suppressions and the
staff's alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from justdriving.adapters.sql.repositories import SqlBySchool, SqlRepository
from justdriving.domain.delivery import Suppression
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.staff_alerts import StaffAlert


class SqlMessages(SqlBySchool[OutboundMessage]):
    def by_provider_ref(self, provider: str, provider_message_id: str) -> OutboundMessage | None:
        c = self._table.c
        return self._one(c.provider == provider, c.provider_message_id == provider_message_id)

    def count_sent_to(self, channel: str, address: str, since: datetime) -> int:
        c, address = self._table.c, address.lower()

        def to(message: OutboundMessage) -> bool:  # channel and recipient never change
            return message.channel.value == channel and str(message.recipient).lower() == address

        self._session.flush_where(self._mapper, to)
        query = select(func.count()).where(
            c.channel == channel, c.recipient == address, c.sent_at >= since
        )
        counted: int = self._session.connection.execute(query).scalar_one()
        return counted

    def latest_to(self, channel: str, address: str) -> OutboundMessage | None:
        c = self._table.c
        found = self._where(
            c.channel == channel, c.recipient == address.lower(), order_by=c.created_at.desc()
        )
        return found[0] if found else None

    def recent(self, limit: int) -> Sequence[OutboundMessage]:
        """ORDER BY created_at DESC LIMIT n, over ix_messages_created_at."""
        c = self._table.c
        found: list[OutboundMessage] = self._session.select(
            self._mapper, order_by=(c.created_at.desc(), c.id.desc()), limit=max(limit, 0)
        )
        return found


class SqlSuppressions(SqlRepository[Suppression]):
    def add(self, item: Suppression) -> None:
        item.id = Suppression.key(item.channel, item.address, item.school_id)
        existing = self.find(item.id)
        if existing is None:
            super().add(item)
        else:
            existing.reinstate(item.reason, item.created_at)

    def matching(self, channel: str, address: str, school_id: str) -> Suppression | None:
        return Suppression.in_force(lambda scope: self.find_key(channel, address, scope), school_id)

    def find_key(self, channel: str, address: str, school_id: str | None) -> Suppression | None:
        return self.find(Suppression.key(Channel(channel), address, school_id))


class SqlStaffAlerts(SqlRepository[StaffAlert]):
    def pending(self, limit: int) -> Sequence[StaffAlert]:
        c = self._table.c
        return self._page([c.pending.is_(True)], (c.created_at, c.id), limit, 0)

"""Disputes (chargebacks), tracked by status so staff see them."""

from __future__ import annotations

from datetime import datetime

from attrs import define

from justdriving.domain.entity import Entity
from justdriving.domain.ids import DisputeId, PaymentId, SchoolId
from justdriving.domain.money import Money

CLOSED_DISPUTE_STATUSES = frozenset({"won", "lost", "prevented", "warning_closed"})


@define(eq=False)
class Dispute(Entity):
    id: DisputeId
    school_id: SchoolId
    payment_id: PaymentId
    provider_dispute_id: str
    status: str
    opened_at: datetime
    amount: Money | None = None
    updated_at: datetime | None = None
    version: int = 0

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_DISPUTE_STATUSES

    def update(self, status: str, at: datetime) -> bool:
        """Take a newer status; a closed dispute and older news change nothing."""
        if self.is_closed or status == self.status:
            return False
        if self.updated_at is not None and at < self.updated_at:
            return False
        self.status, self.updated_at = status, at
        return True

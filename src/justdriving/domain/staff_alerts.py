"""Staff alerts: what a school's office must look at (a payment held for review, an
overpayment, a refund the provider refused, an outbox row given up on, a student blocked for
an overdue invoice), recorded in the transaction that found it and mailed to the school's
contact address in batches, so a storm is one message. Each alert names the ops page's row.

An alert holds the school's own wording of what happened and a path on the ops page; it never
holds a phone number, an email address or a provider's raw error text.
"""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import define

from justdriving.domain.entity import Entity


class AlertKind(enum.StrEnum):
    PAYMENT_HELD = "payment_held"
    OVERPAYMENT = "overpayment"
    REFUND_REFUSED = "refund_refused"
    OUTBOX_DEAD = "outbox_dead"
    STUDENT_BLOCKED = "student_blocked"
    PLAN_PAUSED = "plan_paused"


@define(eq=False)
class StaffAlert(Entity):
    id: str
    school_id: str
    kind: AlertKind
    text: str  # what happened, in the school's language
    ops_path: str  # the row on the ops page: /ops/payments/<id>, /ops/invoices/<id>, /ops
    created_at: datetime
    sent_at: datetime | None = None
    version: int = 0

    @property
    def pending(self) -> bool:
        return self.sent_at is None

    def mark_sent(self, now: datetime) -> None:
        """Mailed in a digest (or nobody to mail it to): it is not sent again."""
        self.sent_at = self.sent_at or now

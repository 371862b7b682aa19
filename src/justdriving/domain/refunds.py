"""Refunds: partial or full, several per payment, never above what was captured."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import define, field

from justdriving.domain.entity import Entity
from justdriving.domain.events import EventLog, RefundFailed, RefundSucceeded
from justdriving.domain.ids import InvoiceId, PaymentId, RefundId, SchoolId, StudentId
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@define(eq=False)
class Refund(Entity):
    id: RefundId
    school_id: SchoolId
    student_id: StudentId
    payment_id: PaymentId
    amount: Money
    reason: str
    created_at: datetime
    invoice_id: InvoiceId | None = None
    status: RefundStatus = RefundStatus.PENDING
    provider_refund_id: str | None = None
    credit_note_id: InvoiceId | None = None
    failure_reason: str | None = None
    wants_credit_note: bool = True
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    @classmethod
    def against(
        cls,
        payment: Payment,
        *,
        id: RefundId,
        amount: Money,
        reason: str,
        now: datetime,
        wants_credit_note: bool = True,
    ) -> Refund:
        """Reserve `amount` on the payment (RefundExceedsCaptured if too much) and open a refund."""
        payment.reserve_refund(amount)
        return cls(
            id=id,
            school_id=payment.school_id,
            student_id=payment.student_id,
            payment_id=payment.id,
            amount=amount,
            reason=reason,
            created_at=now,
            invoice_id=payment.invoice_id,
            wants_credit_note=wants_credit_note,
        )

    def doubt(self, reported: Money | None) -> str | None:
        """Why a provider's report that it refunded cannot be trusted (it states no amount, or
        another one), or None. The amount was ours to ask: a provider refunds just that."""
        if reported is None:
            return f"provider reported no amount, expected {self.amount}"
        if reported != self.amount:
            return f"provider reported {reported}, expected {self.amount}"
        return None

    def hold(self, reason: str) -> bool:
        """A report it cannot book: it stays pending, its amount reserved, the reason noted
        for review. False (no change) when it had ended or the reason is known already."""
        if self.status is not RefundStatus.PENDING or self.failure_reason == reason:
            return False
        self.failure_reason = reason
        return True

    def succeed(self, payment: Payment, now: datetime) -> bool:
        """Mark refunded; False (no change) when it had already ended."""
        if self.status is not RefundStatus.PENDING:
            return False
        self.status = RefundStatus.SUCCEEDED
        payment.settle_refund(self.amount, succeeded=True)
        self.events.record(RefundSucceeded(now, self.id, self.amount, school_id=self.school_id))
        return True

    def fail(
        self, payment: Payment, now: datetime, reason: str | None, *, canceled: bool = False
    ) -> bool:
        if self.status is not RefundStatus.PENDING:
            return False
        self.status = RefundStatus.CANCELED if canceled else RefundStatus.FAILED
        self.failure_reason = reason
        payment.settle_refund(self.amount, succeeded=False)
        self.events.record(RefundFailed(now, self.id, school_id=self.school_id))
        return True

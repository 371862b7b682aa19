"""A student's balance at one school: invoiced - credited - paid + refunded."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from justdriving.domain.invoices import CreditNote, Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.domain.refunds import Refund, RefundStatus


@frozen
class Balance:
    """Positive: the student owes the school. Negative: the student has credit."""

    invoiced: Money
    credited: Money
    paid: Money
    refunded: Money

    @property
    def amount(self) -> Money:
        return self.invoiced - self.credited - self.paid + self.refunded

    @classmethod
    def of(
        cls,
        currency: str,
        invoices: Iterable[Invoice],
        credit_notes: Iterable[CreditNote],
        payments: Iterable[Payment],
        refunds: Iterable[Refund],
    ) -> Balance:
        zero = Money.zero(currency)
        invoiced = sum(
            (i.totals.gross for i in invoices if i.status is not InvoiceStatus.DRAFT), zero
        )
        credited = sum((c.totals.gross for c in credit_notes), zero)
        paid = sum((p.captured for p in payments if p.status is PaymentStatus.SUCCEEDED), zero)
        refunded = sum((r.amount for r in refunds if r.status is RefundStatus.SUCCEEDED), zero)
        return cls(invoiced, credited, paid, refunded)

"""Overpayments: money a payment brought beyond what its invoice asks, held for review.

An overpayment is never silently kept: it shows on the ops page and `justdriving payments
overpaid`, and `refund_overpayment` gives it back. It is the part of a payment its invoice
did not need (`unapplied`), plus its share of an invoice now below zero (credited after it
was paid). Money paid on account, with no invoice named, is credit, not an overpayment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from attrs import frozen

from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentStatus


@frozen
class Overpayment:
    payment_id: str
    school_id: str
    student_id: str
    invoice_id: str
    invoice_number: str | None
    captured: Money
    amount: Money  # what is to go back
    paid_at: datetime | None


def overpayments(payments: Iterable[Payment], invoices: Mapping[str, Invoice]) -> list[Overpayment]:
    """Every payment of `payments` that brought more than its invoice asks, newest first.

    An invoice below zero shares its excess among its payments, the newest first, each up to
    what it can still give back, so no excess is counted twice."""
    found: list[Overpayment] = []
    below_zero: dict[str, Money] = {}
    paid = [p for p in payments if p.status is PaymentStatus.SUCCEEDED and p.invoice_id]
    for payment in sorted(paid, key=_newest_first):
        invoice = invoices.get(payment.invoice_id or "")
        if invoice is None:
            continue
        zero = Money.zero(invoice.currency)
        left = below_zero.setdefault(invoice.id, max(-invoice.outstanding, zero))
        share = min(left, max(payment.refundable - payment.unapplied, zero))
        below_zero[invoice.id] = left - share
        # A refund still in flight is spoken for: asking again must not give it back twice.
        amount = min(payment.unapplied + share - payment.refund_reserved, payment.refundable)
        if amount.is_positive:
            found.append(
                Overpayment(
                    payment.id,
                    payment.school_id,
                    payment.student_id,
                    invoice.id,
                    invoice.number,
                    payment.captured,
                    amount,
                    payment.status_at,
                )
            )
    return found


def _newest_first(payment: Payment) -> tuple[float, str]:
    at = payment.status_at or payment.created_at
    return (-at.timestamp(), payment.id)

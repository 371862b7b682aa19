"""Closing a deposit: count it against what the booking cost, or give it back."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import Booking
from justdriving.domain.deposits import Deposit, DepositStatus
from justdriving.domain.invoices import Invoice
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.domain.schools import School
from justdriving.domain.services.billing import apply_to_invoice
from justdriving.domain.services.notifications import queue_side_effect
from justdriving.domain.services.refunds import open_refund
from justdriving.ports.persistence import UnitOfWork


def close_deposit(
    uow: UnitOfWork, school: School, booking: Booking, invoices: list[Invoice], now: datetime
) -> None:
    """Count a secured deposit against the student's invoice, or give it back if none."""
    deposit = uow.deposits.for_booking(booking.id)
    if deposit is None or deposit.status is not DepositStatus.SECURED:
        return
    payment = uow.payments.get(deposit.payment_id)
    owed = [i for i in invoices if i.student_id == deposit.student_id]
    if not owed:
        return_deposit(uow, school, deposit, payment, now)
        return
    deposit.settle()
    payment.invoice_id = owed[0].id
    if payment.status is PaymentStatus.SUCCEEDED:
        apply_to_invoice(uow, payment, now)
    else:  # a card hold: capture it; the succeeded event applies it to the invoice
        queue_side_effect(
            uow,
            school.id,
            OutboxKind.CAPTURE_PAYMENT,
            {"payment_id": payment.id},
            f"capture-{payment.id}",
            now,
        )


def return_deposit(
    uow: UnitOfWork, school: School, deposit: Deposit, payment: Payment, now: datetime
) -> None:
    """Release a card hold, or refund a charged deposit."""
    deposit.give_back()
    if payment.status is PaymentStatus.AUTHORIZED:
        queue_side_effect(
            uow,
            school.id,
            OutboxKind.CANCEL_PAYMENT,
            {"payment_id": payment.id},
            f"cancel-{payment.id}",
            now,
        )
    elif payment.status is PaymentStatus.SUCCEEDED:
        amount = min(deposit.amount, payment.refundable)  # part may be refunded already
        if amount.is_positive:
            open_refund(uow, school, payment, amount, "deposit returned", now)

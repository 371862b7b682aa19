"""Deposits: closing one when its booking ends, and the reactions to the deposit's events
(registered in `reactions.py`) that confirm the booking, count the money against an invoice or
give it back."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import Booking
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.events import DepositReturned, DepositSecured, DepositSettled
from justdriving.domain.ids import InvoiceId
from justdriving.domain.invoices import Invoice
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.services.billing import apply_to_invoice
from justdriving.domain.services.notifications import queue_side_effect
from justdriving.domain.services.refunds import open_refund
from justdriving.ports.persistence import UnitOfWork


def close_deposit(
    uow: UnitOfWork, booking: Booking, invoices: list[Invoice], now: datetime
) -> None:
    """A booking ended: count its secured deposit against the student's invoice, or give it
    back when the student owes nothing."""
    deposit = uow.deposits.for_booking(booking.id)
    if deposit is None or deposit.status is not DepositStatus.SECURED:
        return
    owed = [i for i in invoices if i.student_id == deposit.student_id]
    if owed:
        deposit.settle(owed[0].id, now)
    else:
        deposit.give_back(now)


def deposit_secured(uow: UnitOfWork, event: DepositSecured, now: datetime) -> None:
    """Confirm the booking the deposit secures; give the deposit back if the booking ended
    before the money arrived."""
    booking = uow.bookings.get(event.booking_id)
    if booking.status.is_final:
        uow.deposits.get(event.deposit_id).give_back(now)
    else:
        booking.confirm(now)  # its students are told by the reaction to the confirmation


def deposit_settled(uow: UnitOfWork, event: DepositSettled, now: datetime) -> None:
    """Count the deposit's payment against the invoice; a card hold is captured first (its
    succeeded event then counts it)."""
    payment = uow.payments.get(event.payment_id)
    payment.invoice_id = InvoiceId(event.invoice_id)
    if payment.status is PaymentStatus.SUCCEEDED:
        apply_to_invoice(uow, payment, now)
    elif payment.status is PaymentStatus.AUTHORIZED:
        queue_side_effect(
            uow,
            payment.school_id,
            OutboxKind.CAPTURE_PAYMENT,
            {"payment_id": payment.id},
            f"capture-{payment.id}",
            now,
        )


def deposit_returned(uow: UnitOfWork, event: DepositReturned, now: datetime) -> None:
    """Release a card hold, or refund what is left of a charged deposit. A hold the provider
    let go already (a canceled payment) needs nothing."""
    payment = uow.payments.get(event.payment_id)
    if payment.status is PaymentStatus.AUTHORIZED:
        queue_side_effect(
            uow,
            payment.school_id,
            OutboxKind.CANCEL_PAYMENT,
            {"payment_id": payment.id},
            f"cancel-{payment.id}",
            now,
        )
    elif payment.status is PaymentStatus.SUCCEEDED:
        amount = min(event.amount, payment.refundable)  # part may be refunded already
        if amount.is_positive:
            school = uow.schools.get(payment.school_id)
            open_refund(uow, school, payment, amount, "deposit returned", now)

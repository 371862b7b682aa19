"""What a deposit's events set off (registered in `reactions.py`): the booking confirmed, the
money counted against an invoice, or given back.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import DepositReturned, DepositSecured, DepositSettled
from justdriving.domain.ids import InvoiceId
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.services.steps.billing import apply_to_invoice
from justdriving.domain.services.steps.refunds import open_refund
from justdriving.ports.persistence import UnitOfWork


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
        uow.outbox.add(
            OutboxMessage.queued(
                payment.school_id,
                OutboxKind.CAPTURE_PAYMENT,
                {"payment_id": payment.id},
                f"capture-{payment.id}",
                now,
            )
        )


def deposit_returned(uow: UnitOfWork, event: DepositReturned, now: datetime) -> None:
    """Release a card hold, or refund what is left of a charged deposit. A hold the provider
    let go already (a canceled payment) needs nothing."""
    payment = uow.payments.get(event.payment_id)
    if payment.status is PaymentStatus.AUTHORIZED:
        uow.outbox.add(
            OutboxMessage.queued(
                payment.school_id,
                OutboxKind.CANCEL_PAYMENT,
                {"payment_id": payment.id},
                f"cancel-{payment.id}",
                now,
            )
        )
    elif payment.status is PaymentStatus.SUCCEEDED:
        amount = min(event.amount, payment.refundable)  # part may be refunded already
        if amount.is_positive:
            school = uow.schools.get(payment.school_id)
            open_refund(uow, school, payment, amount, "deposit returned", now)

"""What a payment's new status means for invoices, packages, deposits and bookings: the
reactions to the payment's events (registered in `reactions.py`)."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.deposits import DepositStatus
from justdriving.domain.events import PaymentAuthorized, PaymentCanceled, PaymentSucceeded
from justdriving.domain.formatting import money
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.packages import PackageStatus
from justdriving.domain.payments import Payment, PaymentPurpose
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.billing import apply_to_invoice
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


def payment_succeeded(uow: UnitOfWork, event: PaymentSucceeded, now: datetime) -> None:
    """Count the payment against its invoice, activate a package it paid in full, secure the
    deposit it paid, and queue the receipt."""
    payment = uow.payments.get(event.payment_id)
    school = uow.schools.get(payment.school_id)
    if payment.purpose is PaymentPurpose.DEPOSIT:
        _deposit_secured(uow, payment, now)
    apply_to_invoice(uow, payment, now)
    if payment.invoice_id is not None:
        invoice = uow.invoices.get(payment.invoice_id)
        if invoice.package_id is not None and invoice.status is InvoiceStatus.PAID:
            package = uow.packages.get(invoice.package_id)
            if package.status is not PackageStatus.CLOSED:  # refunded meanwhile: stays shut
                package.activate()  # paid in full: credits usable (an instalment's share)
    student = uow.students.get(payment.student_id)
    queue_message(
        uow,
        school,
        student,
        MessageType.PAYMENT_RECEIPT,
        {"payment_id": payment.id, "amount": money(payment.captured, student.language)},
        now,
    )


def payment_authorized(uow: UnitOfWork, event: PaymentAuthorized, now: datetime) -> None:
    """A card hold secures the deposit it was asked for (and confirms the booking)."""
    _deposit_secured(uow, uow.payments.get(event.payment_id), now)


def payment_canceled(uow: UnitOfWork, event: PaymentCanceled, now: datetime) -> None:
    """A released hold gives back the deposit it secured."""
    deposit = uow.deposits.by_payment(event.payment_id)
    if deposit is not None and deposit.status is DepositStatus.SECURED:
        deposit.give_back(now)


def _deposit_secured(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """The deposit this payment was asked for is secured (not a deposit, or secured already
    by a captured hold: nothing); its event confirms the booking."""
    deposit = uow.deposits.by_payment(payment.id)
    if deposit is not None:
        deposit.secure(now)

"""An invoice's or a deposit's online payment at checkout: whether its open payment can be
given again (or has lapsed), its session, the one it replaces cancelled at the provider, and
how a deposit is taken (a hold or a charge)."""

from __future__ import annotations

from datetime import datetime, timedelta

from justdriving.domain.bookings import Booking
from justdriving.domain.deposits import Deposit, capture_mode_for
from justdriving.domain.errors import ConcurrencyConflict, PaymentNotAllowed
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import (
    CaptureMode,
    Payment,
    PaymentStatus,
)
from justdriving.domain.saved_methods import customer_id_for
from justdriving.domain.schools import School
from justdriving.ports.payments import PaymentSession
from justdriving.ports.persistence import UnitOfWork

# Stripe Checkout Sessions expire after 24 hours; a payment nobody acted on for longer is
# replaced (and canceled at the provider) rather than given again.
CHECKOUT_LIFETIME = timedelta(hours=23)


def deposit_capture(
    uow: UnitOfWork, school: School, provider: str, booking: Booking, now: datetime
) -> CaptureMode:
    """A hold when the lesson is near; else a charge, or, where the school charges a lapsing
    hold to the saved card and the student has one, a hold all the same."""
    mode = capture_mode_for(booking.slot.start, now)
    if mode is CaptureMode.MANUAL or not school.settings.charge_deposit_at_hold_lapse:
        return mode
    customer = uow.payment_customers.find(
        customer_id_for(school.id, booking.student_ids[0], provider)
    )
    saved = customer is not None and customer.default_method_id is not None
    return CaptureMode.MANUAL if saved else mode


def last_payment(uow: UnitOfWork, invoice: Invoice) -> Payment | None:
    """The invoice's last online payment, if any (open or not: the caller asks)."""
    return uow.payments.find(invoice.online_payment_id) if invoice.online_payment_id else None


def payable(invoice: Invoice) -> Invoice:
    """The invoice, if it is still owed; PaymentNotAllowed when it is not."""
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
        raise PaymentNotAllowed(f"invoice {invoice.number or invoice.id} is {invoice.status}")
    return invoice


def check_deposit_still_wanted(booking: Booking, deposit: Deposit | None) -> None:
    """A deposit started meanwhile conflicts (the next round gives it); an ended booking takes
    none."""
    if deposit is not None:
        raise ConcurrencyConflict("a deposit was started for the booking meanwhile")
    if booking.status.is_final:
        raise PaymentNotAllowed("the booking already has a deposit or has ended")


def still_usable(payment: Payment, owed: Money, provider: str, now: datetime) -> bool:
    """The open payment can be given again: it asks what is owed, through the school's
    gateway, and its checkout has not lapsed (a hosted page lives about a day)."""
    untouched = payment.status is PaymentStatus.PENDING
    lapsed = untouched and now - payment.created_at > CHECKOUT_LIFETIME
    usable = payment.amount == owed and payment.provider == provider and not lapsed
    # A charge made without the student (a saved card) is no checkout: the student who opens
    # the pay link gets a fresh one, and the waiting charge is canceled at the provider.
    return payment.is_open and usable and payment.charge_reason is None


def session_of(payment: Payment) -> PaymentSession:
    """The checkout session of a payment started before, given again."""
    return PaymentSession(
        provider=payment.provider or "",
        provider_payment_id=payment.provider_payment_id or "",
        client_secret=payment.client_secret,
        redirect_url=payment.redirect_url,
    )


def cancel_at_provider(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """An open payment replaced by a new one. Should the payer still complete it, the money
    is an overpayment, held for review."""
    uow.outbox.add(
        OutboxMessage.queued(
            payment.school_id,
            OutboxKind.CANCEL_PAYMENT,
            {"payment_id": payment.id},
            f"cancel-{payment.id}",
            now,
        )
    )

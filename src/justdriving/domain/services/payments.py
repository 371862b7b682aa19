"""Payment use cases: start an online payment, record a manual one, apply provider events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from attrs import frozen

from justdriving.domain.deposits import Deposit, capture_mode_for
from justdriving.domain.errors import ConcurrencyConflict, InvalidInput, PaymentNotAllowed
from justdriving.domain.ids import DepositId, PaymentId, new_id
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import (
    EventOutcome,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from justdriving.domain.services.billing import in_school
from justdriving.domain.services.disputes import apply_dispute_event
from justdriving.domain.services.notifications import queue_side_effect
from justdriving.domain.services.refunds import refund_succeeded
from justdriving.domain.services.settlement import payment_moved
from justdriving.ports.clock import Clock
from justdriving.ports.payments import GatewayRegistry, PaymentRequest, PaymentSession
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


@frozen
class StartedPayment:
    payment: Payment
    session: PaymentSession


class Payments:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow = uow
        self._clock = clock
        self._gateways = gateways

    def start_invoice_payment(
        self, school_id: str, invoice_id: str, *, return_url: str | None = None
    ) -> StartedPayment:
        """Start paying what is outstanding on an open invoice; the front end finishes it.

        One open online payment per invoice: asked again (a reload, a double click, a
        restart, several at once) it gives the open payment's checkout again, never a second
        charge. Only when the invoice now asks for another amount (paid in part meanwhile) is
        the open payment canceled at the provider and a new one started."""
        payment, description = _once_settled(
            lambda: self._payment_for_invoice(school_id, invoice_id)
        )
        if payment.provider_payment_id is not None:
            return StartedPayment(payment, _session_of(payment))
        return self._start(school_id, payment, description, return_url)

    def _payment_for_invoice(self, school_id: str, invoice_id: str) -> tuple[Payment, str]:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            gateway = self._gateways.for_school(school)
            invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
            description = f"{school.name} invoice {invoice.number}"
            if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
                raise PaymentNotAllowed(
                    f"invoice {invoice.number or invoice.id} is {invoice.status}"
                )
            current = (
                uow.payments.find(invoice.online_payment_id) if invoice.online_payment_id else None
            )
            if current is not None and current.is_open:
                if _still_usable(current, invoice.outstanding, gateway.name, now):
                    return current, description
                _abandon(uow, school.id, current, now)
            payment = Payment(
                id=PaymentId(new_id("pay")),
                school_id=school.id,
                student_id=invoice.student_id,
                amount=invoice.outstanding,
                method=PaymentMethod.ONLINE,
                purpose=PaymentPurpose.INVOICE,
                created_at=now,
                invoice_id=invoice.id,
                package_id=invoice.package_id,
                provider=gateway.name,
            )
            invoice.start_online_payment(payment.id)
            uow.payments.add(payment)
            uow.commit()
        return payment, description

    def start_deposit(
        self, school_id: str, booking_id: str, *, return_url: str | None = None
    ) -> StartedPayment:
        """Take the booking type's deposit: a card hold when the lesson is near, else a charge.

        Asked again while the deposit's payment is open, it gives that payment's checkout."""
        payment, description = _once_settled(lambda: self._deposit_payment(school_id, booking_id))
        if payment.provider_payment_id is not None:
            return StartedPayment(payment, _session_of(payment))
        return self._start(school_id, payment, description, return_url)

    def _deposit_payment(self, school_id: str, booking_id: str) -> tuple[Payment, str]:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            gateway = self._gateways.for_school(school)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking_type = uow.booking_types.get(booking.booking_type_id)
            description = f"{school.name} deposit"
            if booking_type.deposit is None:
                raise PaymentNotAllowed("this kind of lesson takes no deposit")
            deposit = uow.deposits.for_booking(booking.id)
            if deposit is not None:
                current = uow.payments.get(deposit.payment_id)
                if current.is_open and not booking.status.is_final:
                    return current, description
            if booking.status.is_final or deposit is not None:
                raise PaymentNotAllowed("the booking already has a deposit or has ended")
            mode = capture_mode_for(booking.slot.start, now)
            payment = Payment(
                id=PaymentId(new_id("pay")),
                school_id=school.id,
                student_id=booking.student_ids[0],
                amount=booking_type.deposit,
                method=PaymentMethod.ONLINE,
                purpose=PaymentPurpose.DEPOSIT,
                created_at=now,
                booking_id=booking.id,
                capture_mode=mode,
                provider=gateway.name,
            )
            uow.payments.add(payment)
            uow.deposits.add(
                Deposit(
                    id=DepositId(new_id("dep")),
                    school_id=school.id,
                    booking_id=booking.id,
                    student_id=payment.student_id,
                    payment_id=payment.id,
                    amount=booking_type.deposit,
                    capture_mode=mode,
                )
            )
            uow.commit()
        return payment, description

    def record_manual_payment(
        self,
        school_id: str,
        student_id: str,
        *,
        amount: Money,
        method: PaymentMethod,
        invoice_id: str | None = None,
        reference: str | None = None,
    ) -> Payment:
        """Staff took cash, a bank transfer or MobilePay. Above what is owed becomes credit."""
        if not isinstance(method, PaymentMethod) or method is PaymentMethod.ONLINE:
            raise InvalidInput("a manual payment is cash, bank_transfer or mobilepay")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            if amount.currency != school.currency:
                raise InvalidInput(f"{school.name} takes {school.currency}")
            package_id, invoice = None, None
            if invoice_id is not None:
                invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
                if invoice.student_id != student.id:
                    raise InvalidInput("the invoice is another student's")
                package_id = invoice.package_id
            payment = Payment(
                id=PaymentId(new_id("pay")),
                school_id=school.id,
                student_id=student.id,
                amount=amount,
                method=method,
                purpose=PaymentPurpose.PACKAGE if package_id else PaymentPurpose.INVOICE,
                created_at=now,
                invoice_id=invoice.id if invoice else None,
                package_id=package_id,
                provider="manual",
            )
            payment.record_manual(now, reference)
            uow.payments.add(payment)
            payment_moved(uow, school, payment, now)
            uow.commit()
        return payment

    def _start(
        self, school_id: str, payment: Payment, description: str, return_url: str | None
    ) -> StartedPayment:
        """Ask the gateway (the payer is waiting), keyed by our payment id so a retry is safe."""
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            gateway = self._gateways.for_school(school)
            student = uow.students.get(payment.student_id)
            session = gateway.start(
                PaymentRequest(
                    payment_id=payment.id,
                    school_id=school.id,
                    amount=payment.amount,
                    description=description,
                    idempotency_key=f"start-{payment.id}",
                    capture_mode=payment.capture_mode,
                    customer_email=student.email,
                    return_url=return_url,
                )
            )
        stored = _once_settled(lambda: self._attach(payment.id, session))
        return StartedPayment(stored, session)

    def _attach(self, payment_id: str, session: PaymentSession) -> Payment:
        with self._uow() as uow:
            stored = uow.payments.get(payment_id)
            stored.attach(
                session.provider,
                session.provider_payment_id,
                client_secret=session.client_secret,
                redirect_url=session.redirect_url,
            )
            uow.commit()
        return stored


T = TypeVar("T")
_SETTLE_TRIES = 5
# Stripe Checkout Sessions expire after 24 hours (PayPal approval links sooner than that is
# not documented); a payment nobody acted on for longer is replaced rather than given again.
CHECKOUT_LIFETIME = timedelta(hours=23)


def _once_settled(step: Callable[[], T]) -> T:
    """Run a step again on fresh records when a concurrent one changed them first: the second
    of two payment starts for one invoice then finds the first one's payment."""
    for attempt in range(_SETTLE_TRIES):
        try:
            return step()
        except ConcurrencyConflict:
            if attempt == _SETTLE_TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _still_usable(payment: Payment, owed: Money, provider: str, now: datetime) -> bool:
    """The open payment can be given again: it asks what is owed, through the school's
    gateway, and its checkout has not lapsed (a hosted page lives about a day)."""
    untouched = payment.status is PaymentStatus.PENDING
    lapsed = untouched and now - payment.created_at > CHECKOUT_LIFETIME
    return payment.amount == owed and payment.provider == provider and not lapsed


def _session_of(payment: Payment) -> PaymentSession:
    return PaymentSession(
        provider=payment.provider or "",
        provider_payment_id=payment.provider_payment_id or "",
        client_secret=payment.client_secret,
        redirect_url=payment.redirect_url,
    )


def _abandon(uow: UnitOfWork, school_id: str, payment: Payment, now: datetime) -> None:
    """An open payment for an amount no longer owed: cancel it at the provider (if started
    there). Should the payer still complete it, the money is an overpayment, held for review."""
    if payment.provider_payment_id is not None:
        queue_side_effect(
            uow,
            school_id,
            OutboxKind.CANCEL_PAYMENT,
            {"payment_id": payment.id},
            f"cancel-{payment.id}",
            now,
        )


def apply_payment_event(
    uow: UnitOfWork, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    """Apply one provider-neutral event to our records; unknown or stale events change nothing."""
    payment = _payment_for(uow, event)
    if payment is None:
        return EventOutcome.IGNORED
    school = uow.schools.get(payment.school_id)
    if event.kind.is_dispute:
        return apply_dispute_event(uow, payment, event, now)
    if event.kind.is_refund:
        return _apply_refund_event(uow, school, payment, event, now)
    outcome = payment.apply(event)
    if outcome is EventOutcome.APPLIED:
        payment_moved(uow, school, payment, now)
        if event.kind is PaymentEventKind.APPROVED:  # the provider waits for us to complete
            queue_side_effect(
                uow,
                school.id,
                OutboxKind.COMPLETE_PAYMENT,
                {"payment_id": payment.id},
                f"complete-{payment.id}",
                now,
            )
    return outcome


def _payment_for(uow: UnitOfWork, event: ProviderPaymentEvent) -> Payment | None:
    """The payment the event is about, if the provider that sent it holds that payment: an
    event naming another provider's payment (or a manual one) is about nothing of ours."""
    if event.kind is PaymentEventKind.UNKNOWN:
        return None
    payment = uow.payments.find(event.payment_id) if event.payment_id is not None else None
    if payment is None and event.provider_payment_id is not None:
        payment = uow.payments.by_provider_ref(event.provider, event.provider_payment_id)
    if payment is None or not payment.is_with(event.provider):
        return None
    payment.learn_alias(event.provider_payment_id)
    return payment


def _apply_refund_event(
    uow: UnitOfWork, school: object, payment: Payment, event: ProviderPaymentEvent, now: datetime
) -> EventOutcome:
    refund = uow.refunds.find(event.refund_id) if event.refund_id else None
    if refund is None and event.provider_refund_id:
        refund = uow.refunds.by_provider_ref(event.provider_refund_id)
    if refund is None or refund.payment_id != payment.id:
        return EventOutcome.IGNORED
    if refund.provider_refund_id is None:
        refund.provider_refund_id = event.provider_refund_id
    if event.kind is PaymentEventKind.REFUND_SUCCEEDED:
        before = refund.status
        refund_succeeded(uow, uow.schools.get(payment.school_id), refund, payment, now)
        return EventOutcome.APPLIED if refund.status is not before else EventOutcome.IGNORED
    if event.kind in (PaymentEventKind.REFUND_FAILED, PaymentEventKind.REFUND_CANCELED):
        canceled = event.kind is PaymentEventKind.REFUND_CANCELED
        changed = refund.fail(payment, now, event.failure_code, canceled=canceled)
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    return EventOutcome.IGNORED

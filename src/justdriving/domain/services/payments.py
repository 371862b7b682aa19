"""Payment use cases: record a manual payment, apply provider events. (Starting an online
payment is `payment_starts`.)"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import PaymentId, new_id
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import (
    EventOutcome,
    Payment,
    PaymentMethod,
    PaymentPurpose,
)
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.services.billing import in_school
from justdriving.domain.services.disputes import apply_dispute_event
from justdriving.domain.services.notifications import queue_side_effect
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


class Payments:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

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
            uow.commit()  # its PaymentSucceeded applies it to the invoice (reactions.py)
        return payment


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
    outcome = payment.apply(event)  # what a new status implies follows its event (reactions.py)
    if outcome is EventOutcome.APPLIED and event.kind is PaymentEventKind.APPROVED:
        # the provider waits for us to complete
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
    if payment.connected_account != event.account:  # made on another account than this one
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
        doubt = refund.doubt(event.amount) if refund.status is RefundStatus.PENDING else None
        if doubt is not None:
            return EventOutcome.HELD if refund.hold(doubt) else EventOutcome.IGNORED
        changed = refund.succeed(payment, now)  # its RefundSucceeded books it (refund_booked)
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    if event.kind in (PaymentEventKind.REFUND_FAILED, PaymentEventKind.REFUND_CANCELED):
        canceled = event.kind is PaymentEventKind.REFUND_CANCELED
        changed = refund.fail(payment, now, event.failure_code, canceled=canceled)
        return EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    return EventOutcome.IGNORED

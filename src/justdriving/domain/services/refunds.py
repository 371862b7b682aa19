"""Refund use cases: partial and repeated, never above what was captured, with credit notes."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.errors import InvalidInput, RefundExceedsCaptured
from justdriving.domain.events import RefundSucceeded
from justdriving.domain.formatting import money
from justdriving.domain.ids import RefundId, new_id
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import Payment, PaymentMethod, PaymentStatus
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.billing import credit_note, in_school, overpayments_in
from justdriving.domain.services.notifications import queue_message, queue_side_effect
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


def open_refund(
    uow: UnitOfWork,
    school: School,
    payment: Payment,
    amount: Money,
    reason: str,
    now: datetime,
    *,
    wants_credit_note: bool = True,
) -> Refund:
    """Reserve and record a refund. Online: the relay asks the gateway. Manual: done at once."""
    refund = Refund.against(
        payment,
        id=RefundId(new_id("re")),
        amount=amount,
        reason=reason,
        now=now,
        wants_credit_note=wants_credit_note,
    )
    uow.refunds.add(refund)
    if payment.method is PaymentMethod.ONLINE:
        queue_side_effect(
            uow, school.id, OutboxKind.REFUND_PAYMENT, {"refund_id": refund.id}, refund.id, now
        )
    else:  # the money went back over the counter: done (refund_booked follows its event)
        refund.succeed(payment, now)
    return refund


def refund_booked(uow: UnitOfWork, event: RefundSucceeded, now: datetime) -> None:
    """A refund succeeded: take it off the overpayment or the invoice it corrects (with a
    credit note unless the refund says otherwise), and tell the student."""
    refund = uow.refunds.get(event.refund_id)
    payment = uow.payments.get(refund.payment_id)
    school = uow.schools.get(refund.school_id)
    # Money the invoice never needed (an overpayment) goes back without correcting it.
    from_credit = min(refund.amount, payment.unapplied)
    payment.unapplied = payment.unapplied - from_credit
    from_invoice = refund.amount - from_credit
    if refund.invoice_id is not None and from_invoice.is_positive:
        invoice = uow.invoices.get(refund.invoice_id)
        note = None
        amount = min(from_invoice, invoice.creditable)
        if refund.wants_credit_note and amount.is_positive:
            note = credit_note(uow, school, invoice, now, refund.reason, amount, refund.id)
            refund.credit_note_id = note.id
        invoice.apply_refund(from_invoice, now, credit_note=note)
    student = uow.students.get(refund.student_id)
    queue_message(
        uow,
        school,
        student,
        MessageType.REFUND_CONFIRMATION,
        {"refund_id": refund.id, "amount": money(refund.amount, student.language)},
        now,
    )


class Refunds:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def refund(
        self,
        school_id: str,
        payment_id: str,
        *,
        amount: Money | None = None,
        reason: str = "requested by the school",
    ) -> Refund:
        """Refund `amount` (all that is left when None) of a succeeded payment."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a refund needs a reason")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            refund = open_refund(
                uow,
                school,
                payment,
                payment.refundable if amount is None else amount,
                reason,
                now,
            )
            uow.commit()
        return refund

    def refund_overpayment(self, school_id: str, payment_id: str) -> Refund:
        """Give back what a payment brought beyond what its invoice asks (held for review).
        No credit note: the invoice is not corrected, the surplus goes back."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            payment = in_school(uow.payments.get(payment_id), school.id, "payment")
            found = overpayments_in(uow, school.id, payment.student_id)
            excess = next((o.amount for o in found if o.payment_id == payment.id), None)
            if excess is None:
                raise RefundExceedsCaptured("nothing was overpaid on this payment")
            refund = open_refund(
                uow, school, payment, excess, "overpayment returned", now, wants_credit_note=False
            )
            uow.commit()
        return refund

    def refund_package(self, school_id: str, package_id: str) -> list[Refund]:
        """Return the unused part of a package (paid minus lessons taken) and close it.

        The amount is taken back from the package's payments in turn (instalments)."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            package = in_school(uow.packages.get(package_id), school.id, "package")
            package.close()  # refused if refunded (or expired) already
            payments = [
                p
                for p in uow.payments.for_student(school.id, package.student_id)
                if p.package_id == package.id and p.status is PaymentStatus.SUCCEEDED
            ]
            if not payments:
                raise InvalidInput("the package has no payment to refund")
            zero = Money.zero(package.price.currency)
            paid = sum((p.captured for p in payments), zero)
            returned = sum((p.refunded + p.refund_reserved for p in payments), zero)
            left = package.refund_due(paid, returned)  # zero: it closes, nothing goes back
            refunds = []
            for payment in payments:
                amount = min(left, payment.refundable)
                if amount.is_positive:
                    refunds.append(
                        open_refund(uow, school, payment, amount, "unused package lessons", now)
                    )
                    left = left - amount
            uow.commit()
        return refunds

"""What follows a charge to a saved card (the reactions to customer_charge.declined and
customer_charge.requires_action): the card tried again on a ladder of days where a retry can
succeed, the student told with the invoice's pay link, and a plan's charge counted as failed.

A retry is an outbox row due on the day the ladder says (the schedule lives in the database,
so a restart neither loses nor repeats one), keyed by the declined payment: the relay then
charges as `charge_customer` does, under the next attempt's key. A decline no retry can help
(a stolen or lost card) is never retried, nor one past the ladder's last step; the invoice is
then owed by its pay link and the school's dunning as any other.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.charges import ChargeReason, retry_after
from justdriving.domain.events import CustomerChargeDeclined, CustomerChargeRequiresAction
from justdriving.domain.formatting import money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.charges import charge_attempts
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


def charge_declined(uow: UnitOfWork, event: CustomerChargeDeclined, now: datetime) -> None:
    """Schedule the next try where the ladder allows it, tell a plan, and send the student
    the pay link on the first decline and when no retry follows."""
    payment = uow.payments.get(event.payment_id)
    if payment.charge_reason is None or payment.invoice_id is None:
        return
    reason = ChargeReason.from_key(payment.charge_reason)
    attempts = charge_attempts(uow, payment.school_id, payment.student_id, reason)
    declines = sum(1 for attempt in attempts if attempt.status is PaymentStatus.FAILED)
    delay = retry_after(declines) if event.retryable else None
    if delay is not None:
        uow.outbox.add(
            OutboxMessage.queued(
                payment.school_id,
                OutboxKind.CHARGE_CUSTOMER,
                {
                    "invoice_id": payment.invoice_id,
                    "kind": reason.kind.value,
                    "reference": reason.reference,
                },
                f"charge-retry-{payment.id}",
                now,
                not_before=now + delay,
            )
        )
    invoice = uow.invoices.get(payment.invoice_id)
    if invoice.plan_id is not None:
        uow.plans.get(invoice.plan_id).charge_declined(invoice.id, delay is not None, now)
    if declines == 1 or delay is None:
        _tell_student(uow, payment, retrying=delay is not None, now=now)


def _tell_student(uow: UnitOfWork, payment: Payment, *, retrying: bool, now: datetime) -> None:
    invoice = uow.invoices.get(payment.invoice_id or "")
    school = uow.schools.get(payment.school_id)
    student = uow.students.get(payment.student_id)
    context = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number or "",
        "payment_id": payment.id,
        "amount": money(payment.amount, student.language),
        "retrying": "yes" if retrying else "",
    }
    queue_message(uow, school, student, MessageType.PAYMENT_DECLINED, context, now)


def charge_needs_student(
    uow: UnitOfWork, event: CustomerChargeRequiresAction, now: datetime
) -> None:
    """The pay link to the student (SMS, email) for the invoice the waiting charge was for."""
    payment = uow.payments.get(event.payment_id)
    if payment.invoice_id is None:  # a deposit charged on file: its card hold still holds
        return
    invoice = uow.invoices.get(payment.invoice_id)
    school = uow.schools.get(payment.school_id)
    student = uow.students.get(payment.student_id)
    context = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number or "",
        "payment_id": payment.id,
        "amount": money(payment.amount, student.language),
    }
    queue_message(uow, school, student, MessageType.PAYMENT_ACTION_REQUIRED, context, now)

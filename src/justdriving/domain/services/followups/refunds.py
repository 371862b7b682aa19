"""What a succeeded refund sets off (registered in `reactions.py`): the overpayment or the
invoice corrected, with a credit note unless the refund says otherwise, and the student told.
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import RefundSucceeded
from justdriving.domain.formatting import money
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.billing import credit_note
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


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

"""What an issued invoice sets off (registered in `reactions.py`): the student is told, with
its number, amount and due date (and its PDF).
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import InvoiceIssued
from justdriving.domain.formatting import day, money
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


def invoice_issued(uow: UnitOfWork, event: InvoiceIssued, now: datetime) -> None:
    """Tell the student: the invoice, its number, amount and due date (with its PDF)."""
    invoice = uow.invoices.get(event.invoice_id)
    school = uow.schools.get(invoice.school_id)
    student = uow.students.get(invoice.student_id)
    queue_message(
        uow,
        school,
        student,
        MessageType.INVOICE_ISSUED,
        {
            "invoice_id": invoice.id,
            "invoice_number": event.number,
            "amount": money(invoice.totals.gross, student.language),
            "due": day(invoice.due_at, school.timezone, student.language) if invoice.due_at else "",
        },
        now,
    )

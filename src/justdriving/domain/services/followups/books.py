"""What must reach the books, queued for the accounting push (registered in `reactions.py` when
the push is on): a `push_accounting` row for an issued invoice, a succeeded payment of an
invoice, a credit note and a student's changed details (their contact), in the transaction
that made them. The relay pushes the rows (`relay/books.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from justdriving.domain.events import (
    CreditNoteIssued,
    InvoiceIssued,
    PaymentSucceeded,
    StudentDetailsChanged,
)
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.schools import AccountingCustomerMode
from justdriving.domain.services.accounting.documents import Kind
from justdriving.ports.persistence import UnitOfWork

# What a contact in the books carries of a student (AccountingContact): a change to one of
# these is pushed.
CONTACT_DETAILS: Final = frozenset({"name", "email", "phone", "address"})


Record = tuple[Kind, str]


def queue_push(
    uow: UnitOfWork, school_id: str, records: Sequence[Record], now: datetime
) -> OutboxMessage:
    """A row asking the relay to push `records` (kind, our id) to the school's books. Its key
    is the row's own: each batch sent carries the batch key of its records."""
    row = OutboxMessage.queued(
        school_id,
        OutboxKind.PUSH_ACCOUNTING,
        {"records": [[kind.value, record_id] for kind, record_id in records]},
        new_id("books"),
        now,
    )
    uow.outbox.add(row)
    return row


def records_of(row: OutboxMessage) -> list[Record]:
    return [(Kind(kind), str(record_id)) for kind, record_id in row.payload["records"]]


def invoice_to_books(uow: UnitOfWork, event: InvoiceIssued, now: datetime) -> None:
    """An issued invoice is queued for the books (its contact goes with it)."""
    invoice = uow.invoices.get(event.invoice_id)
    queue_push(uow, invoice.school_id, [(Kind.INVOICE, invoice.id)], now)


def payment_to_books(uow: UnitOfWork, event: PaymentSucceeded, now: datetime) -> None:
    """A succeeded payment of an invoice is queued for the books; one of no invoice (a deposit)
    is not in them."""
    payment = uow.payments.get(event.payment_id)
    if payment.invoice_id is not None:
        queue_push(uow, payment.school_id, [(Kind.PAYMENT, payment.id)], now)


def credit_note_to_books(uow: UnitOfWork, event: CreditNoteIssued, now: datetime) -> None:
    """A credit note (a void, a refund) is queued for the books."""
    invoice = uow.invoices.get(event.invoice_id)
    queue_push(uow, invoice.school_id, [(Kind.CREDIT_NOTE, event.credit_note_id)], now)


def student_to_books(uow: UnitOfWork, event: StudentDetailsChanged, now: datetime) -> None:
    """A student's new details are queued for their contact in the books. The relay
    pushes it only once the contact is there (it goes with the student's first document);
    a school with one shared "Students" contact has nothing to update."""
    if CONTACT_DETAILS.isdisjoint(event.changed):
        return
    school = uow.schools.get(event.school_id)
    if school.settings.accounting_customer_mode is AccountingCustomerMode.SHARED:
        return
    queue_push(uow, school.id, [(Kind.CONTACT, event.student_id)], now)

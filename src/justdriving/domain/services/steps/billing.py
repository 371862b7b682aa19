"""Billing steps shared by use cases: invoice lines, issuing, credit notes, applying payments.

Each step works inside the caller's unit of work; the messages an issued invoice implies follow
its event (`followups/invoices.py`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from justdriving.domain.errors import NotFound
from justdriving.domain.events import CreditNoteIssued, PaymentOverpaid
from justdriving.domain.ids import BookingId, InvoiceId, PackageId, StudentId, new_id
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.overpayments import Overpayment, overpayments
from justdriving.domain.payments import Payment
from justdriving.domain.schools import InvoiceService, School
from justdriving.ports.persistence import UnitOfWork


class _Owned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def school_id(self) -> str: ...


T = TypeVar("T", bound=_Owned)


def in_school(item: T, school_id: str, kind: str) -> T:
    """The record, if it belongs to the school; NotFound otherwise (never leak another tenant)."""
    if item.school_id != school_id:
        raise NotFound(kind, item.id)
    return item


def line(school: School, service: InvoiceService, description: str, price: Money) -> InvoiceLine:
    settings = school.settings
    rate = settings.vat_rate if school.vat_registered else settings.vat_rate.zero()
    return InvoiceLine(
        service=service,
        description=description,
        quantity=1,
        unit_price=price,
        vat_rate=rate,
        vat_inclusive=settings.prices_include_vat,
    )


def invoice_lines(
    uow: UnitOfWork,
    school: School,
    student_id: StudentId,
    lines: list[InvoiceLine],
    now: datetime,
    *,
    booking_id: BookingId | None = None,
    package_id: PackageId | None = None,
    plan_id: str | None = None,
    delivered_on: date | None = None,
) -> Invoice:
    """Draft an invoice with `lines` and issue it at once (numbered, message queued)."""
    invoice = Invoice(
        id=InvoiceId(new_id("inv")),
        school_id=school.id,
        student_id=student_id,
        currency=school.currency,
        booking_id=booking_id,
        package_id=package_id,
        plan_id=plan_id,
        delivered_on=delivered_on,
    )
    for item in lines:
        invoice.add_line(item)
    uow.invoices.add(invoice)
    issue(uow, school, invoice, now)
    return invoice


def issue(uow: UnitOfWork, school: School, invoice: Invoice, now: datetime) -> None:
    """Number the invoice from the school's gap-free series, in the same unit of work (its
    InvoiceIssued queues the email: `invoice_issued`)."""
    number = uow.numbering.for_school(school.id).take(school.settings.invoice_number_prefix)
    invoice.issue(number, now, timedelta(days=school.settings.invoice_due_days))


def credit_note(
    uow: UnitOfWork,
    school: School,
    invoice: Invoice,
    now: datetime,
    reason: str,
    amount: Money | None = None,
    refund_id: str | None = None,
) -> CreditNote:
    """A numbered credit note for the invoice, stored; the caller applies it to the invoice.
    The invoice records CreditNoteIssued."""
    note = CreditNote.mirroring(
        invoice,
        id=InvoiceId(new_id("crn")),
        number=uow.numbering.for_school(school.id).take(school.settings.invoice_number_prefix),
        now=now,
        reason=reason,
        amount=amount,
        refund_id=refund_id,
    )
    uow.credit_notes.add(note)
    invoice.events.record(CreditNoteIssued(now, note.id, invoice.id, school_id=invoice.school_id))
    return note


def apply_to_invoice(uow: UnitOfWork, payment: Payment, now: datetime) -> None:
    """Count a succeeded payment against its invoice; what the invoice did not need stays
    on the payment (`unapplied`): an overpayment, held for review until given back."""
    if payment.invoice_id is None or not payment.unapplied.is_positive:
        return  # nothing to count (a deposit refunded meanwhile, say)
    invoice = uow.invoices.get(payment.invoice_id)
    if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
        payment.unapplied = invoice.apply_payment(payment.unapplied, now)
    if payment.unapplied.is_positive:
        payment.events.record(
            PaymentOverpaid(now, payment.id, payment.unapplied, school_id=payment.school_id)
        )


def overpayments_in(
    uow: UnitOfWork, school_id: str, student_id: str | None = None
) -> list[Overpayment]:
    """The school's overpayments (one student's, when given), newest first."""
    students = [student_id] if student_id else [s.id for s in uow.students.for_school(school_id)]
    found: list[Overpayment] = []
    for student in students:
        invoices: dict[str, Invoice] = {
            i.id: i for i in uow.invoices.for_student(school_id, student)
        }
        found += overpayments(uow.payments.for_student(school_id, student), invoices)
    return found

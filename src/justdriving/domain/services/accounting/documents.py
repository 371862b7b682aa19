"""A school's issued documents as its accounting system sees them: lines mapped to the school's
account and VAT codes, invoices named by their contact, payments and credit notes by their invoice.

Shared by the sync (which names records by our ids and the provider's external ids) and the CSV
export (which names them as an import file does: contact name, invoice number). With them, the
records' vocabulary the planner, the push and the relay share: their kinds (`Kind`), a
candidate for a push, and the fingerprints and batch keys that recognise what was pushed."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs
from attrs import frozen

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentStatus
from justdriving.domain.people import Student
from justdriving.domain.schools import AccountingCustomerMode, School
from justdriving.ports.persistence import UnitOfWork

SHARED_CONTACT_NAME = "Students"


class RecordProblem(Exception):
    """Why one record cannot be pushed (a missing account code, say); the run goes on."""


class References(Protocol):
    """How a document names the records it depends on in the target system."""

    def contact(self, contact_id: str) -> str: ...

    def invoice(self, invoice_id: str) -> str: ...


@frozen
class AppliedPayment:
    """A succeeded payment and the part of it counted against its invoice."""

    payment: Payment
    amount: Money
    invoice_id: str

    @property
    def paid_at(self) -> datetime:
        return self.payment.status_at or self.payment.created_at


@frozen
class SchoolBooks:
    """One school's issued invoices (voided ones too), applied payments and credit notes."""

    school: School
    students: Mapping[str, Student]
    invoices: Sequence[Invoice]
    payments: Sequence[AppliedPayment]
    credit_notes: Sequence[CreditNote]

    @property
    def shared_customer(self) -> bool:
        return self.school.settings.accounting_customer_mode is AccountingCustomerMode.SHARED

    def contact_id(self, student_id: str) -> str:
        """Our id of the contact a student's documents go to: the student, or (shared mode)
        the school's one "Students" contact, which takes the school's id."""
        return self.school.id if self.shared_customer else student_id

    def contact(self, contact_id: str) -> AccountingContact:
        if contact_id == self.school.id:
            return AccountingContact(record_id=contact_id, name=SHARED_CONTACT_NAME)
        student = self.students[contact_id]
        return AccountingContact(
            record_id=student.id,
            name=student.name,
            email=student.email.value if student.email else None,
            phone=student.phone.e164 if student.phone else None,
            address=student.address,
        )


def load_books(uow: UnitOfWork, school: School) -> SchoolBooks:
    students: dict[str, Student] = {s.id: s for s in uow.students.for_school(school.id)}
    invoices: list[Invoice] = []
    payments: list[Payment] = []
    notes: list[CreditNote] = []
    for student_id in students:
        invoices += uow.invoices.for_student(school.id, student_id)
        payments += uow.payments.for_student(school.id, student_id)
        notes += uow.credit_notes.for_student(school.id, student_id)
    issued = [i for i in invoices if i.status is not InvoiceStatus.DRAFT]
    return SchoolBooks(
        school=school,
        students=students,
        invoices=sorted(issued, key=lambda i: (issued_at(i), i.id)),
        payments=sorted(_applied(issued, payments), key=lambda p: (p.paid_at, p.payment.id)),
        credit_notes=sorted(notes, key=lambda n: (n.issued_at, n.id)),
    )


def issued_at(invoice: Invoice) -> datetime:
    """When an issued invoice was issued (a draft, never: it is not in the books)."""
    if invoice.issued_at is None:
        raise RecordProblem(f"invoice {invoice.id} has not been issued")
    return invoice.issued_at


def _applied(invoices: Sequence[Invoice], payments: Sequence[Payment]) -> list[AppliedPayment]:
    """Share each invoice's `paid` among its succeeded payments in the order they succeeded.

    A payment counted at most what it captured and did not keep as credit (`unapplied`); a
    refund of an overpayment lowers `unapplied` later, so the invoice's total is the cap."""
    result: list[AppliedPayment] = []
    for invoice in invoices:
        left = invoice.paid
        own = [
            p
            for p in payments
            if p.invoice_id == invoice.id and p.status is PaymentStatus.SUCCEEDED
        ]
        for payment in sorted(own, key=lambda p: (p.status_at or p.created_at, p.id)):
            share = min(payment.captured - payment.unapplied, left)
            if share.is_positive:
                result.append(AppliedPayment(payment, share, invoice.id))
                left = left - share
    return result


def accounting_lines(school: School, lines: Sequence[InvoiceLine]) -> tuple[AccountingLine, ...]:
    """Each line under the school's account and VAT code for its service."""
    mapped: list[AccountingLine] = []
    for line in lines:
        mapping = school.settings.account_map.get(line.service)
        if mapping is None:
            raise RecordProblem(
                f"no account code for {line.service.value} in {school.name}: set "
                f"account_map[InvoiceService.{line.service.name}] = AccountMapping(account "
                "code, VAT code) in the school's settings"
            )
        mapped.append(
            AccountingLine(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_price,
                account_code=mapping.account_code,
                vat_code=mapping.vat_code,
                vat_inclusive=line.vat_inclusive,
                vat_rate=line.vat_rate,
            )
        )
    return tuple(mapped)


def accounting_invoice(books: SchoolBooks, invoice: Invoice, refs: References) -> AccountingInvoice:
    if invoice.number is None or invoice.issued_at is None or invoice.due_at is None:
        raise RecordProblem(f"invoice {invoice.id} has not been issued")
    return AccountingInvoice(
        record_id=invoice.id,
        number=invoice.number,
        contact_id=refs.contact(books.contact_id(invoice.student_id)),
        issued_at=invoice.issued_at,
        due_at=invoice.due_at,
        currency=invoice.currency,
        lines=accounting_lines(books.school, invoice.lines),
    )


def accounting_payment(applied: AppliedPayment, refs: References) -> AccountingPayment:
    payment = applied.payment
    return AccountingPayment(
        record_id=payment.id,
        invoice_external_id=refs.invoice(applied.invoice_id),
        amount=applied.amount,
        paid_at=applied.paid_at,
        reference=payment.reference or payment.provider_payment_id or payment.id,
    )


def accounting_credit_note(
    books: SchoolBooks, note: CreditNote, refs: References
) -> AccountingCreditNote:
    return AccountingCreditNote(
        record_id=note.id,
        number=note.number,
        contact_id=refs.contact(books.contact_id(note.student_id)),
        invoice_external_id=refs.invoice(note.invoice_id),
        issued_at=note.issued_at,
        currency=note.currency,
        lines=accounting_lines(books.school, note.lines),
        refunded=note.totals.gross if note.refund_id is not None else None,
    )


Payload = AccountingContact | AccountingInvoice | AccountingPayment | AccountingCreditNote


class Kind(enum.StrEnum):
    """In the order a run pushes them: what a record needs is pushed before it."""

    CONTACT = "contact"
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"


@frozen
class Candidate:
    """One of our records a run considers, how to build what it sends, and what it needs."""

    kind: Kind
    record_id: str
    build: Callable[[References], Payload]
    needs: tuple[tuple[Kind, str], ...] = ()


Plan = dict[Kind, list[Candidate]]


Wanted = Collection[tuple[Kind, str]]
"""(kind, our record id) of the records to push: an outbox row's, say."""


def fingerprint(payload: Payload) -> str:
    """A stable hash of what would be sent: equal payloads, equal fingerprints, whatever the
    time zone object a database handed back."""
    document = attrs.asdict(payload, value_serializer=_plain)
    text = json.dumps([type(payload).__name__, document], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(_: Any, __: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def batch_key(
    provider: str, kind: Kind, entries: Sequence[tuple[str, int, str | None, str]]
) -> str:
    """The idempotency key of a batch of (record id, its sync record's version, fingerprint
    last pushed, fingerprint now).

    A retry after a crash rebuilds the same batch from the same sync records, so it sends the
    same key and the provider replays its answer. Once an outcome is committed the version
    moves on, so a record refused before, or changed and changed back, is sent under a new key
    rather than answered from the provider's memory. At most 43 characters (QuickBooks takes
    50 in `requestid`)."""
    lines = [provider, kind.value]
    lines += [f"{r}:{version}:{old or '-'}:{new}" for r, version, old, new in entries]
    return "jd-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:40]

"""What the money read model hands out: plain rows naming their school and student, with
amounts as Money and times in UTC (the school's timezone rides along for display)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from attrs import frozen

from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.people import Student
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School
from justdriving.ports.persistence import UnitOfWork

Redact = Callable[[str], str]


@frozen
class Named:
    """A record as people know it: its name, with the id for whoever needs it."""

    id: str
    name: str


@frozen
class InvoiceRow:
    id: str
    number: str | None
    school: Named
    timezone: str
    language: str
    student: Named
    status: str  # draft, open, partially_paid, paid, void, credited; see `state`
    overdue: bool
    issued_at: datetime | None
    due_at: datetime | None
    total: Money
    paid: Money
    outstanding: Money

    @property
    def state(self) -> str:
        """What is true now: "overdue" for an unpaid invoice past its due date."""
        return "overdue" if self.overdue else self.status


@frozen
class PaymentRow:
    id: str
    school: Named
    timezone: str
    student: Named
    invoice_id: str | None
    invoice_number: str | None
    amount: Money
    captured: Money
    refunded: Money
    status: str
    method: str
    provider: str | None
    created_at: datetime
    status_at: datetime | None
    reason: str | None  # the provider's reason (failed) or ours (held), redacted
    overpaid: Money | None  # brought beyond its invoice, held for review
    reference: str | None = None  # staff's note of a manual payment (a MobilePay number)

    @property
    def paid_by(self) -> str:
        """How the money came: cash, bank_transfer, mobilepay, or the online provider."""
        return (self.provider or self.method) if self.method == "online" else self.method


@frozen
class LineRow:
    description: str
    quantity: int
    unit_price: Money
    vat_rate: str
    gross: Money


@frozen
class CreditNoteRow:
    id: str
    number: str
    amount: Money


@frozen
class RefundRow:
    id: str
    payment_id: str
    amount: Money
    status: str


@frozen
class BalanceRow:
    """Positive `owed`: the student owes the school; negative: the student has credit."""

    school: Named
    student: Named
    currency: str
    invoiced: Money
    credited: Money
    paid: Money
    refunded: Money
    owed: Money
    overdue: Money
    overdue_invoices: int
    oldest_due: datetime | None


@frozen
class InvoiceDetail:
    invoice: InvoiceRow
    lines: tuple[LineRow, ...]
    payments: tuple[PaymentRow, ...]
    credit_notes: tuple[CreditNoteRow, ...]
    refunds: tuple[RefundRow, ...]
    balance: BalanceRow


@frozen
class PaymentDetail:
    payment: PaymentRow
    refunds: tuple[RefundRow, ...]
    invoice: InvoiceRow | None


@frozen
class DisputeRow:
    id: str
    school: Named
    timezone: str
    payment_id: str
    student: Named | None
    status: str
    closed: bool
    amount: Money | None
    opened_at: datetime
    updated_at: datetime | None


UNPAID = (InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value)


# What `invoices(state=...)` offers besides the stored statuses: unpaid and past due.
OVERDUE = "overdue"


class Names:
    """Schools and students read once per unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._schools: dict[str, School] = {}
        self._students: dict[str, Student | None] = {}

    def school(self, school_id: str) -> School:
        if school_id not in self._schools:
            self._schools[school_id] = self._uow.schools.get(school_id)
        return self._schools[school_id]

    def student(self, student_id: str) -> Named:
        if student_id not in self._students:
            self._students[student_id] = self._uow.students.find(student_id)
        found = self._students[student_id]
        return Named(student_id, found.name if found else student_id)


def refund_row(refund: Refund) -> RefundRow:
    return RefundRow(refund.id, refund.payment_id, refund.amount, str(refund.status))


def statuses_of(state: str | None) -> Sequence[str]:
    if state is None or state in (OVERDUE, InvoiceStatus.OPEN.value):
        return () if state is None else UNPAID
    known = {s.value for s in InvoiceStatus}
    if state not in known:
        raise InvalidInput(f"an invoice state is one of {sorted(known | {OVERDUE})}")
    return (state,)


def invoice_by_reference(uow: UnitOfWork, reference: str, school_id: str | None) -> Invoice:
    found = uow.invoices.find(reference)
    if found is not None and school_id in (None, found.school_id):
        return found
    schools = [school_id] if school_id else [s.id for s in uow.schools.list()]
    matches = [i for s in schools if (i := uow.invoices.by_number(s, reference)) is not None]
    if len(matches) > 1:
        raise InvalidInput(f"invoice number {reference} is in more than one school: add --school")
    if not matches:
        raise NotFound("invoice", reference)
    return matches[0]

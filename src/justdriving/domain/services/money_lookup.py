"""Lookups the money read model shares: names read once per unit of work, an invoice by id or
number, and what an invoice state asks of the repository."""

from __future__ import annotations

from collections.abc import Sequence

from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.people import Student
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School
from justdriving.domain.services.money_rows import Named, RefundRow
from justdriving.ports.persistence import UnitOfWork

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

"""Balance queries: what a student owes or has in credit at a school."""

from __future__ import annotations

from justdriving.domain.balances import Balance
from justdriving.domain.invoices import Invoice
from justdriving.domain.overpayments import Overpayment
from justdriving.domain.services.steps.billing import in_school, overpayments_in
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class Balances:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def balance(self, school_id: str, student_id: str) -> Balance:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            return Balance.of(
                school.currency,
                uow.invoices.for_student(school.id, student.id),
                uow.credit_notes.for_student(school.id, student.id),
                uow.payments.for_student(school.id, student.id),
                uow.refunds.for_student(school.id, student.id),
            )

    def overdue_invoices(self, school_id: str, student_id: str) -> list[Invoice]:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            invoices = uow.invoices.for_student(school.id, student.id)
            return [i for i in invoices if i.is_overdue(now)]

    def overpayments(self, school_id: str | None = None) -> list[Overpayment]:
        """Money paid beyond what invoices ask, held for review: one school's, or all."""
        with self._uow() as uow:
            schools = [uow.schools.get(school_id)] if school_id else list(uow.schools.list())
            return [o for school in schools for o in overpayments_in(uow, school.id)]

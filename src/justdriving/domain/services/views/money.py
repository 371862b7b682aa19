"""Money at a glance, read only: invoices, payments, balances and disputes as the school's
office asks about them ("is invoice 3 paid, by what, and what does Jonas owe?").

Lists are pages of the repositories' newest-first queries (`limit`, `offset`); a student is
found by id or by a part of their name (`find_students`). Every stored provider or review
reason passes `redact` (the log redaction, given by the entrypoint) before it is handed out.
Balances read one school's students (each student's invoices, credit notes, payments and
refunds); they are sorted overdue first, then by what is owed.
"""

from __future__ import annotations

from justdriving.domain.balances import Balance
from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.overpayments import overpayments
from justdriving.domain.payments import Payment
from justdriving.domain.services.views.money_rows import (
    OVERDUE,
    BalanceRow,
    CreditNoteRow,
    DisputeRow,
    InvoiceDetail,
    InvoiceRow,
    LineRow,
    Named,
    Names,
    PaymentDetail,
    PaymentRow,
    Redact,
    RefundRow,
    invoice_by_reference,
    refund_row,
    statuses_of,
)
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

MOST_STUDENTS_FOUND = 20


def _unchanged(text: str) -> str:
    return text


class MoneyView:
    """The read-only use cases behind `justdriving invoices|payments|balances` and the ops
    page's money sections."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, redact: Redact = _unchanged) -> None:
        self._uow = uow
        self._clock = clock
        self._redact = redact

    # invoices ---------------------------------------------------------------------------

    def invoices(
        self,
        school_id: str | None = None,
        student_id: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[InvoiceRow]:
        """One page of invoices, newest first. `state` is a status, or "overdue" (unpaid and
        past due); "open" is unpaid (open or partly paid) and not due yet."""
        statuses = statuses_of(state)
        now = self._clock.now()
        with self._uow() as uow:
            found = uow.invoices.recent(
                limit,
                offset,
                school_id=school_id,
                student_id=student_id,
                statuses=statuses,
                due_from=now if state == InvoiceStatus.OPEN.value else None,
                due_before=now if state == OVERDUE else None,
            )
            names = Names(uow)
            return [self._invoice_row(names, i) for i in found]

    def invoice(self, reference: str, school_id: str | None = None) -> InvoiceDetail:
        """One invoice by id, or by number (in `school_id`, or in the only school that has
        it), with its lines, payments, credit notes, refunds and the student's balance."""
        with self._uow() as uow:
            invoice = invoice_by_reference(uow, reference, school_id)
            names = Names(uow)
            payments = [
                p
                for p in uow.payments.for_student(invoice.school_id, invoice.student_id)
                if p.invoice_id == invoice.id
            ]
            refunds = [r for p in payments for r in uow.refunds.for_payment(p.id)]
            return InvoiceDetail(
                invoice=self._invoice_row(names, invoice),
                lines=tuple(
                    LineRow(
                        line.description,
                        line.quantity,
                        line.unit_price,
                        str(line.vat_rate),
                        line.amounts.gross,
                    )
                    for line in invoice.lines
                ),
                payments=tuple(self._payment_row(uow, names, p) for p in payments),
                credit_notes=tuple(
                    CreditNoteRow(c.id, c.number, c.totals.gross)
                    for c in uow.credit_notes.for_invoice(invoice.id)
                ),
                refunds=tuple(
                    RefundRow(r.id, r.payment_id, r.amount, str(r.status)) for r in refunds
                ),
                balance=self._balance(uow, names, invoice.school_id, invoice.student_id),
            )

    # payments ---------------------------------------------------------------------------

    def payments(
        self,
        school_id: str | None = None,
        student_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[PaymentRow]:
        """One page of payments, newest first."""
        with self._uow() as uow:
            found = uow.payments.recent(
                limit,
                offset,
                school_id=school_id,
                student_id=student_id,
                statuses=[status] if status else (),
            )
            names = Names(uow)
            return [self._payment_row(uow, names, p) for p in found]

    def payment(self, payment_id: str) -> PaymentDetail:
        with self._uow() as uow:
            payment = uow.payments.get(payment_id)
            names = Names(uow)
            invoice = uow.invoices.find(payment.invoice_id) if payment.invoice_id else None
            return PaymentDetail(
                payment=self._payment_row(uow, names, payment),
                refunds=tuple(refund_row(r) for r in uow.refunds.for_payment(payment.id)),
                invoice=self._invoice_row(names, invoice) if invoice else None,
            )

    # balances and students --------------------------------------------------------------

    def balances(
        self, school_id: str | None = None, student_id: str | None = None, limit: int = 50
    ) -> list[BalanceRow]:
        """Each student's balance (one school's, or every school's), overdue first, then the
        most owed; students who owe nothing and have no credit are left out."""
        with self._uow() as uow:
            names = Names(uow)
            if student_id is not None:
                student = uow.students.get(student_id)
                if school_id is not None and student.school_id != school_id:
                    raise NotFound("student", student_id)
                return [self._balance(uow, names, student.school_id, student.id)]
            schools = [uow.schools.get(school_id)] if school_id else list(uow.schools.list())
            rows = [
                self._balance(uow, names, school.id, student.id)
                for school in schools
                for student in uow.students.for_school(school.id)
            ]
        owing = [r for r in rows if r.owed.amount != 0]
        owing.sort(key=lambda r: (-r.overdue.amount, -r.owed.amount, r.student.name))
        return owing[:limit]

    def find_students(self, query: str, school_id: str | None = None) -> list[Named]:
        """Students whose id is `query` or whose name contains it (case-insensitive)."""
        wanted = query.strip().casefold()
        if not wanted:
            raise InvalidInput("say which student: a name or an id")
        with self._uow() as uow:
            exact = uow.students.find(query.strip())
            if exact is not None and school_id in (None, exact.school_id):
                return [Named(exact.id, exact.name)]
            schools = [uow.schools.get(school_id)] if school_id else list(uow.schools.list())
            found = [
                Named(s.id, s.name)
                for school in schools
                for s in uow.students.for_school(school.id)
                if wanted in s.name.casefold()
            ]
        return sorted(found, key=lambda n: (n.name, n.id))[:MOST_STUDENTS_FOUND]

    def disputes(self, school_id: str | None = None, limit: int = 50) -> list[DisputeRow]:
        with self._uow() as uow:
            names = Names(uow)
            rows = []
            for d in uow.disputes.recent(limit, school_id=school_id):
                payment = uow.payments.find(d.payment_id)
                school = names.school(d.school_id)
                rows.append(
                    DisputeRow(
                        d.id,
                        Named(school.id, school.name),
                        school.timezone,
                        d.payment_id,
                        names.student(payment.student_id) if payment else None,
                        d.status,
                        d.is_closed,
                        d.amount,
                        d.opened_at,
                        d.updated_at,
                    )
                )
            return rows

    # rows -------------------------------------------------------------------------------

    def _invoice_row(self, names: Names, invoice: Invoice) -> InvoiceRow:
        school = names.school(invoice.school_id)
        return InvoiceRow(
            id=invoice.id,
            number=invoice.number,
            school=Named(school.id, school.name),
            timezone=school.timezone,
            language=school.settings.language,
            student=names.student(invoice.student_id),
            status=str(invoice.status),
            overdue=invoice.is_overdue(self._clock.now()),
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
            total=invoice.totals.gross,
            paid=invoice.net_paid,
            outstanding=invoice.outstanding,
        )

    def _payment_row(self, uow: UnitOfWork, names: Names, payment: Payment) -> PaymentRow:
        school = names.school(payment.school_id)
        invoice = uow.invoices.find(payment.invoice_id) if payment.invoice_id else None
        over = overpayments([payment], {invoice.id: invoice} if invoice else {})
        return PaymentRow(
            id=payment.id,
            school=Named(school.id, school.name),
            timezone=school.timezone,
            student=names.student(payment.student_id),
            invoice_id=payment.invoice_id,
            invoice_number=invoice.number if invoice else None,
            amount=payment.amount,
            captured=payment.captured,
            refunded=payment.refunded,
            status=str(payment.status),
            method=str(payment.method),
            provider=payment.provider,
            created_at=payment.created_at,
            status_at=payment.status_at,
            reason=self._redact(payment.failure_reason) if payment.failure_reason else None,
            overpaid=over[0].amount if over else None,
            reference=payment.reference,
        )

    def _balance(
        self, uow: UnitOfWork, names: Names, school_id: str, student_id: str
    ) -> BalanceRow:
        school = names.school(school_id)
        invoices = uow.invoices.for_student(school_id, student_id)
        balance = Balance.of(
            school.currency,
            invoices,
            uow.credit_notes.for_student(school_id, student_id),
            uow.payments.for_student(school_id, student_id),
            uow.refunds.for_student(school_id, student_id),
        )
        now = self._clock.now()
        overdue = [i for i in invoices if i.is_overdue(now)]
        return BalanceRow(
            school=Named(school.id, school.name),
            student=names.student(student_id),
            currency=school.currency,
            invoiced=balance.invoiced,
            credited=balance.credited,
            paid=balance.paid,
            refunded=balance.refunded,
            owed=balance.amount,
            overdue=sum((i.outstanding for i in overdue), Money.zero(school.currency)),
            overdue_invoices=len(overdue),
            oldest_due=min((i.due_at for i in overdue if i.due_at), default=None),
        )

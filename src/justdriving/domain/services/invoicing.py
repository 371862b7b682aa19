"""Invoice use cases: draft with lines, issue (numbered and sent), send again, void."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import field, frozen

from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.formatting import money
from justdriving.domain.ids import InvoiceId, StudentId, new_id
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.steps.billing import credit_note, in_school, issue, line
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


@frozen
class LineItem:
    """A line as a caller states it; VAT comes from the school's settings."""

    service: InvoiceService = field()
    description: str = field()
    price: Money = field()

    @service.validator
    def _service(self, _: object, value: object) -> None:
        if not isinstance(value, InvoiceService):
            raise InvalidInput(f"a line's service is an InvoiceService, not {value!r}")

    @description.validator
    def _description(self, _: object, value: object) -> None:
        if not isinstance(value, str):
            raise InvalidInput("a line's description is a str")

    @price.validator
    def _price(self, _: object, value: object) -> None:
        if not isinstance(value, Money):
            raise InvalidInput("a line's price is Money")


class Invoicing:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def draft_invoice(self, school_id: str, student_id: str, items: Sequence[LineItem]) -> Invoice:
        if not items:
            raise InvalidInput("an invoice needs at least one line")
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            invoice = Invoice(
                id=InvoiceId(new_id("inv")),
                school_id=school.id,
                student_id=StudentId(student.id),
                currency=school.currency,
            )
            for item in items:
                if not isinstance(item, LineItem):
                    raise InvalidInput("invoice lines are LineItem values")
                invoice.add_line(line(school, item.service, item.description, item.price))
            uow.invoices.add(invoice)
            uow.commit()
        return invoice

    def issue_invoice(self, school_id: str, invoice_id: str) -> Invoice:
        """Give the draft the school's next number, set its due date, and send it."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
            issue(uow, school, invoice, now)
            uow.commit()
        return invoice

    def send_invoice(self, school_id: str, invoice_id: str) -> None:
        """Send an issued invoice to its student again (overdue: with the reminder wording)."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
            if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
                raise InvalidTransition("invoice", invoice.status, "send")
            kind = (
                MessageType.OVERDUE_REMINDER
                if invoice.is_overdue(now)
                else MessageType.INVOICE_ISSUED
            )
            student = uow.students.get(invoice.student_id)
            queue_message(
                uow,
                school,
                student,
                kind,
                {
                    "invoice_id": invoice.id,
                    "invoice_number": invoice.number or "",
                    "amount": money(invoice.outstanding, student.language),
                },
                now,
            )
            uow.commit()

    def void_invoice(self, school_id: str, invoice_id: str, *, reason: str) -> CreditNote:
        """Void an unpaid invoice: it keeps its number and a credit note books it out."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("voiding needs a reason")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            invoice = in_school(uow.invoices.get(invoice_id), school.id, "invoice")
            invoice.void(now)
            note = credit_note(uow, school, invoice, now, reason)
            invoice.apply_credit(note, now)
            uow.commit()
        return note

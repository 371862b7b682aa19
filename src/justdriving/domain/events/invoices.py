"""Events of invoices and credit notes."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent


@frozen
class InvoiceIssued(DomainEvent):
    topic: ClassVar[str] = "invoice.issued"

    invoice_id: str
    number: str


@frozen
class InvoiceVoided(DomainEvent):
    topic: ClassVar[str] = "invoice.voided"

    invoice_id: str


@frozen
class InvoicePaid(DomainEvent):
    topic: ClassVar[str] = "invoice.paid"

    invoice_id: str


@frozen
class CreditNoteIssued(DomainEvent):
    """A numbered credit note corrects the invoice (a void, a refund): it goes to the books."""

    topic: ClassVar[str] = "credit_note.issued"

    credit_note_id: str
    invoice_id: str

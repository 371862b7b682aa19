"""Documents port: an invoice (or credit note) as a PDF to attach to its email."""

from __future__ import annotations

from typing import Protocol

from justdriving.domain.invoices import CreditNote, Invoice
from justdriving.domain.people import Student
from justdriving.domain.schools import School


class InvoicePdf(Protocol):
    """Renders one issued invoice or credit note: school details, number, dates, lines with
    VAT, totals. Returns the PDF's bytes; the same document renders to the same content.
    Raises InvalidInput for a draft (it has no number yet)."""

    def render(self, document: Invoice | CreditNote, school: School, student: Student) -> bytes: ...

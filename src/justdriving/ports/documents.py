"""Documents port: an invoice (or credit note) as a PDF to attach to its email, and the pay link
printed on an open invoice."""

from __future__ import annotations

from typing import Protocol

from justdriving.domain.invoices import CreditNote, Invoice
from justdriving.domain.people import Student
from justdriving.domain.schools import School


class InvoicePdf(Protocol):
    """Renders one issued invoice or credit note: school details, number, dates, lines with
    VAT, totals. Returns the PDF's bytes; the same document renders to the same content.
    Raises InvalidInput for a draft (it has no number yet)."""

    def render(
        self,
        document: Invoice | CreditNote,
        school: School,
        student: Student,
        *,
        pay_url: str | None = None,
    ) -> bytes:
        """`pay_url`: the invoice's pay link, printed on an invoice that is still open."""
        ...


class PayLinks(Protocol):
    """The link a student opens to pay an invoice online (in its email and its PDF)."""

    def for_invoice(self, invoice_id: str) -> str | None:
        """An absolute URL to the checkout for the invoice; None when none can be made (no
        public URL is configured)."""
        ...

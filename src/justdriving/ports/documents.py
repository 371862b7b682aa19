"""Documents port: an invoice (or credit note) as a PDF to attach to its email, and the pay link
printed on an open invoice."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen

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


@frozen
class OpenedPayLink:
    """What a pay link's token names: an invoice id, and whether the link has expired."""

    invoice_id: str
    expired: bool


class PayLinks(Protocol):
    """The link a student opens to pay an invoice online (in its email, SMS and PDF): signed
    for that invoice, and expiring."""

    def for_invoice(self, invoice_id: str) -> str | None:
        """An absolute URL to the checkout for the invoice; None when none can be made (no
        public URL is configured)."""
        ...

    def path_for(self, invoice_id: str) -> str:
        """The link's path on this app (`/pay/<token>`)."""
        ...

    def open(self, token: str) -> OpenedPayLink | None:
        """The invoice a token was made for (expired or not); None for a token this
        platform did not make."""
        ...

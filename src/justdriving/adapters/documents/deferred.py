"""The InvoicePdf port, loading fpdf2 on the first document it renders: fpdf2 brings numpy,
Pillow and fontTools (about a third of a second and 50 MiB per process), which a web worker or
relay that never renders a PDF should not pay for at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.domain.invoices import CreditNote, Invoice
from justdriving.domain.people import Student
from justdriving.domain.schools import School

if TYPE_CHECKING:
    from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf


class DeferredInvoicePdf:
    """FpdfInvoicePdf, imported and made when first asked for a document."""

    def __init__(self) -> None:
        self._pdf: FpdfInvoicePdf | None = None

    def render(
        self,
        document: Invoice | CreditNote,
        school: School,
        student: Student,
        *,
        pay_url: str | None = None,
    ) -> bytes:
        if self._pdf is None:
            from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf

            self._pdf = FpdfInvoicePdf()
        return self._pdf.render(document, school, student, pay_url=pay_url)

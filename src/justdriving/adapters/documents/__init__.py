"""Documents: invoices and credit notes as PDF (fpdf2), behind the InvoicePdf port, and the pay
links printed on them (PayLinks). fpdf2 is imported only where a PDF is rendered
(DeferredInvoicePdf), or when FpdfInvoicePdf is named."""

from typing import TYPE_CHECKING, Any

from justdriving.adapters.documents.deferred import DeferredInvoicePdf
from justdriving.adapters.documents.pay_links import PublicPayLinks

if TYPE_CHECKING:
    from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf

__all__ = ["DeferredInvoicePdf", "FpdfInvoicePdf", "PublicPayLinks"]


def __getattr__(name: str) -> Any:
    if name == "FpdfInvoicePdf":
        from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf

        return FpdfInvoicePdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Documents: invoices and credit notes as PDF (fpdf2), behind the InvoicePdf port, and the pay
links printed on them (PayLinks)."""

from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf
from justdriving.adapters.documents.pay_links import PublicPayLinks

__all__ = ["FpdfInvoicePdf", "PublicPayLinks"]

"""Documents: invoices and credit notes as PDF (fpdf2), behind the InvoicePdf port."""

from justdriving.adapters.documents.invoice_pdf import FpdfInvoicePdf

__all__ = ["FpdfInvoicePdf"]

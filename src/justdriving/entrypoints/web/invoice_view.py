"""An invoice as the checkout pages show it: its lines with VAT and its totals, worded and
formatted in the school's language (the labels of the invoice PDF)."""

from __future__ import annotations

from typing import Any

from justdriving.adapters.documents.wording import Wording, wording_for
from justdriving.domain.invoices import Invoice, InvoiceStatus, vat_by_rate
from justdriving.domain.schools import School
from justdriving.domain.tax import Amounts

PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


def school_words(school: School) -> Wording:
    return wording_for(school.settings.language)


def invoice_view(invoice: Invoice, school: School) -> dict[str, Any]:
    """Everything a page or an API answer shows of the invoice, as text in the school's
    language: `labels`, `lines` (description, quantity, unit price and amount excl. VAT, VAT
    rate), `vat` (per rate), `net`, `total`, `outstanding`."""
    words = school_words(school)
    totals = invoice.totals
    lines = []
    for line in invoice.lines:
        unit = Amounts.of(line.unit_price, line.vat_rate, vat_inclusive=line.vat_inclusive)
        lines.append(
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": words.money(unit.net),
                "vat_rate": words.rate(line.vat_rate),
                "amount": words.money(line.amounts.net),
            }
        )
    return {
        "language": words.language,
        "school_name": school.name,
        "number": invoice.number,
        "status": str(invoice.status),
        "payable": invoice.status in PAYABLE and invoice.outstanding.is_positive,
        "issued": words.day(school.local_time(invoice.issued_at).date())
        if invoice.issued_at
        else None,
        "labels": {
            "title": words.invoice,
            "number": words.number,
            "issue_date": words.issue_date,
            "description": words.description,
            "quantity": words.quantity,
            "unit_price": words.unit_price,
            "vat": words.vat,
            "amount": words.amount,
            "net": words.net,
            "total": words.total,
            "outstanding": words.outstanding,
            "pay": words.pay,
            "paid": words.paid,
            "link_expired": words.link_expired.format(school=school.name),
        },
        "lines": lines,
        "vat": [
            {"label": words.vat_line(rate, amounts.net), "amount": words.money(amounts.vat)}
            for rate, amounts in vat_by_rate(invoice.lines, invoice.currency)
        ],
        "net": words.money(totals.net, with_currency=True),
        "total": words.money(totals.gross, with_currency=True),
        "outstanding": words.money(invoice.outstanding, with_currency=True),
    }

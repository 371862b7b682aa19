"""The plain ledger: one signed row per document line and per payment, in date order.

Signs are from the school's side: an invoice line and a payment received are positive; a
credit note line and a refund (a payment with a negative amount) negative. Net, VAT and gross
come from the line's VAT code's rate with the domain's per-line rounding (tax.Amounts), so the
Gross column of an invoice sums to the invoice's gross. A payment carries no VAT.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from justdriving.adapters.accounting.csv.files import amount_text
from justdriving.domain.accounting import (
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.tax import Amounts, TaxRate

LEDGER_HEADER = (
    "Date", "Type", "Number", "Contact", "Description", "Account code", "VAT code",
    "Net", "VAT", "Gross", "Currency",
)  # fmt: skip
_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 2}
Row = tuple[str, ...]


class InvoiceLike(Protocol):
    """What a payment row needs of its invoice (an AccountingInvoice will do)."""

    @property
    def number(self) -> str: ...

    @property
    def contact_id(self) -> str: ...


class LedgerBook:
    """Collects ledger rows; `rows()` gives them in date order with each record's first row."""

    def __init__(
        self,
        vat_rates: Mapping[str, TaxRate],
        timezone: ZoneInfo,
        name_of: Callable[[str], str],
    ) -> None:
        self._rates, self._timezone, self._name_of = vat_rates, timezone, name_of
        self._entries: list[tuple[date, int, int, str, Row]] = []

    def add_invoices(self, invoices: Sequence[AccountingInvoice]) -> None:
        for invoice in invoices:
            self._document(invoice, "invoice", invoice.issued_at, invoice.lines, sign=1)

    def add_credit_notes(self, notes: Sequence[AccountingCreditNote]) -> None:
        for note in notes:
            self._document(note, "credit_note", note.issued_at, note.lines, sign=-1)
            if note.refunded is not None and note.refunded.is_positive:
                self._refund(note, note.refunded)

    def _refund(self, note: AccountingCreditNote, amount: Money) -> None:
        """The money paid back on a credit note: negative, like every refund here."""
        gross, zero = amount_text(-amount), amount_text(amount - amount)
        row = (
            self._iso(note.issued_at), "refund", f"Refund {note.number}",
            self._name_of(note.contact_id), f"Refund of credit note {note.number}", "", "",
            gross, zero, gross, amount.currency,
        )  # fmt: skip
        self._add(note.issued_at, "refund", note.record_id, row)

    def add_payments(
        self, payments: Sequence[AccountingPayment], invoices: Mapping[str, InvoiceLike]
    ) -> None:
        for payment in payments:
            invoice = invoices.get(payment.invoice_external_id)
            kind = "refund" if payment.amount.is_negative else "payment"
            what = invoice.number if invoice is not None else payment.invoice_external_id
            contact = self._name_of(invoice.contact_id) if invoice is not None else ""
            gross = amount_text(payment.amount)
            zero = amount_text(payment.amount - payment.amount)
            row = (
                self._iso(payment.paid_at), kind, payment.reference, contact,
                f"{kind.capitalize()} for invoice {what}", "", "", gross, zero, gross,
                payment.amount.currency,
            )  # fmt: skip
            self._add(payment.paid_at, kind, payment.record_id, row)

    def rows(self) -> tuple[list[Row], dict[str, int]]:
        ordered = sorted(self._entries, key=lambda entry: entry[:3])
        first: dict[str, int] = {}
        for number, (_, _, _, record_id, _) in enumerate(ordered, start=2):
            first.setdefault(record_id, number)
        return [row for *_, row in ordered], first

    def _document(
        self,
        document: AccountingInvoice | AccountingCreditNote,
        kind: str,
        issued_at: datetime,
        lines: Sequence[AccountingLine],
        *,
        sign: int,
    ) -> None:
        for line in lines:
            amounts = Amounts.of(
                line.unit_amount * line.quantity, self._rate(line), vat_inclusive=line.vat_inclusive
            )
            row = (
                self._iso(issued_at), kind, document.number, self._name_of(document.contact_id),
                line.description, line.account_code, line.vat_code,
                amount_text(amounts.net * sign), amount_text(amounts.vat * sign),
                amount_text(amounts.gross * sign), document.currency,
            )  # fmt: skip
            self._add(issued_at, kind, document.record_id, row)

    def _rate(self, line: AccountingLine) -> TaxRate:
        rate = line.vat_rate or self._rates.get(line.vat_code)
        if rate is None:
            raise InvalidInput(f"no VAT rate for VAT code {line.vat_code!r} (give vat_rates)")
        return rate

    def _add(self, moment: datetime, kind: str, record_id: str, row: Row) -> None:
        self._entries.append(
            (
                moment.astimezone(self._timezone).date(),
                _ORDER[kind],
                len(self._entries),
                record_id,
                row,
            )
        )

    def _iso(self, moment: datetime) -> str:
        return moment.astimezone(self._timezone).date().isoformat()

"""CSV exports for accountants: Xero's and QuickBooks' invoice import files and a plain ledger.

Pure file writers: no provider is called. Each file is written atomically under a name that
says what it holds and when it was made (UTC), e.g.
`xero-sales-invoices-koreskolen-nord-tax-inclusive-20250314T093000Z-part1of2.csv` (the school's
name, when the exporter was made `for_school`); see csv.files for the encoding (UTF-8 with BOM),
separators and number format.

- Xero (sales invoice import): one row per line with the template's starred columns and
  Currency; at most 500 invoices per file; one file is all tax-inclusive or all exclusive (the
  importer asks which), so invoices are split by that. Dates DD/MM/YYYY by default.
- QuickBooks Online (invoice import): one row per line; at most 100 invoices and 1,000 rows
  per file, and the importer asks inclusive or exclusive per file, so the same split applies.
  Item(Product/Service) is the line's account code (the product/service name in QuickBooks).
  The Customer is written as QuickBooks takes a name (a colon would make a sub-customer).
- Ledger: one row per document line and per payment, signed from the school's side: invoices
  and payments positive, credit notes and refunds (negative payments) negative; net, VAT and
  gross per line with the domain's rounding, so the Gross column sums to the documents' gross.
  ISO dates. VAT needs a rate per VAT code (`vat_rates`).
Dates are the school's local dates (`timezone`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import frozen

from justdriving.adapters.accounting.csv.files import amount_text, file_label, stamp, write_csv
from justdriving.adapters.accounting.csv.ledger import LEDGER_HEADER, InvoiceLike, LedgerBook
from justdriving.adapters.accounting.quickbooks.payloads import without_forbidden as quickbooks_name
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
)
from justdriving.domain.errors import InvalidInput
from justdriving.domain.tax import TaxRate

XERO_HEADER = (
    "*ContactName", "*InvoiceNumber", "*InvoiceDate", "*DueDate", "*Description", "*Quantity",
    "*UnitAmount", "*AccountCode", "*TaxType", "Currency",
)  # fmt: skip
XERO_MAX_INVOICES = 500
QUICKBOOKS_HEADER = (
    "Invoice no", "Customer", "Invoice date", "Due date", "Terms", "Memo",
    "Item(Product/Service)", "Item description", "Item quantity", "Item rate", "Item amount",
    "Item tax code", "Service date",
)  # fmt: skip
QUICKBOOKS_MAX_INVOICES = 100
QUICKBOOKS_MAX_ROWS = 1000
Row = tuple[str, ...]


@frozen
class ExportFile:
    """A written file and, per record id, the spreadsheet row of its first line (header = 1)."""

    path: Path
    rows: Mapping[str, int]


class CsvExporter:
    """Writes export files into `folder`; `contacts` (by record id) gives invoices their names."""

    def __init__(
        self,
        folder: Path | str,
        *,
        contacts: Iterable[AccountingContact] = (),
        vat_rates: Mapping[str, TaxRate] | None = None,
        timezone: str = "UTC",
        date_format: str = "%d/%m/%Y",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        label: str = "",
    ) -> None:
        self.folder = Path(folder)
        self.contacts = {contact.record_id: contact for contact in contacts}
        self.vat_rates = dict(vat_rates or {})
        self.timezone, self.date_format, self._clock = ZoneInfo(timezone), date_format, clock
        self.label = file_label(label)

    def for_school(
        self, school: str, timezone: str, contacts: Iterable[AccountingContact]
    ) -> CsvExporter:
        """This exporter for one school's files: its name in each file name, its local dates,
        its contacts' names in the Contact and *ContactName columns."""
        return CsvExporter(
            self.folder,
            contacts=[*self.contacts.values(), *contacts],
            vat_rates=self.vat_rates,
            timezone=timezone,
            date_format=self.date_format,
            clock=self._clock,
            label=school,
        )

    # What the brief asks for: paths.

    def xero_sales_invoices(self, invoices: Sequence[AccountingInvoice]) -> list[Path]:
        return [file.path for file in self.xero_files(invoices)]

    def quickbooks_invoices(self, invoices: Sequence[AccountingInvoice]) -> list[Path]:
        return [file.path for file in self.quickbooks_files(invoices)]

    def ledger(
        self,
        invoices: Sequence[AccountingInvoice] = (),
        payments: Sequence[AccountingPayment] = (),
        credit_notes: Sequence[AccountingCreditNote] = (),
        *,
        invoices_by_external_id: Mapping[str, InvoiceLike] | None = None,
    ) -> Path:
        return self.ledger_file(
            invoices, payments, credit_notes, invoices_by_external_id=invoices_by_external_id
        ).path

    # The same, with where each record landed.

    def xero_files(self, invoices: Sequence[AccountingInvoice]) -> list[ExportFile]:
        self._check(invoices)
        return self._split(
            "xero-sales-invoices", XERO_HEADER, invoices, self._xero_rows, XERO_MAX_INVOICES, None
        )

    def quickbooks_files(self, invoices: Sequence[AccountingInvoice]) -> list[ExportFile]:
        self._check(invoices)
        return self._split(
            "quickbooks-invoices",
            QUICKBOOKS_HEADER,
            invoices,
            self._quickbooks_rows,
            QUICKBOOKS_MAX_INVOICES,
            QUICKBOOKS_MAX_ROWS,
        )

    def ledger_file(
        self,
        invoices: Sequence[AccountingInvoice] = (),
        payments: Sequence[AccountingPayment] = (),
        credit_notes: Sequence[AccountingCreditNote] = (),
        *,
        invoices_by_external_id: Mapping[str, InvoiceLike] | None = None,
        label: str = "",
    ) -> ExportFile:
        book = LedgerBook(self.vat_rates, self.timezone, self._name)
        book.add_invoices(invoices)
        book.add_credit_notes(credit_notes)
        book.add_payments(payments, invoices_by_external_id or {})
        rows, first = book.rows()
        parts = ["ledger", self.label, file_label(label), stamp(self._clock())]
        path = write_csv(self.folder, "-".join(filter(None, parts)), LEDGER_HEADER, rows)
        return ExportFile(path, first)

    # Mechanics.

    def _check(self, invoices: Sequence[AccountingInvoice]) -> None:
        problems = [p for invoice in invoices if (p := self.invoice_problem(invoice))]
        if problems:
            raise InvalidInput("cannot export: " + "; ".join(problems))

    def invoice_problem(self, invoice: AccountingInvoice) -> str | None:
        """Why this invoice cannot go into an import file, or None."""
        if not invoice.lines:
            return f"invoice {invoice.number} has no lines"
        if len({line.vat_inclusive for line in invoice.lines}) > 1:
            return f"invoice {invoice.number} mixes VAT-inclusive and exclusive lines"
        if invoice.contact_id not in self.contacts:
            return (
                f"invoice {invoice.number}: no contact {invoice.contact_id} (export with the "
                "school's contacts: `CsvExporter.for_school`, as export-accounting does)"
            )
        return None

    def _split(
        self,
        kind: str,
        header: Sequence[str],
        invoices: Sequence[AccountingInvoice],
        rows_of: Callable[[AccountingInvoice], list[Row]],
        max_invoices: int,
        max_rows: int | None,
    ) -> list[ExportFile]:
        when = stamp(self._clock())
        files = []
        for inclusive in (True, False):
            chosen = [i for i in invoices if i.lines[0].vat_inclusive is inclusive]
            chunks = list(_chunks(chosen, rows_of, max_invoices, max_rows))
            mode = "tax-inclusive" if inclusive else "tax-exclusive"
            for number, chunk in enumerate(chunks, start=1):
                parts = [kind, self.label, mode, when, f"part{number}of{len(chunks)}"]
                stem = "-".join(filter(None, parts))
                files.append(self._write(stem, header, chunk))
        return files

    def _write(
        self, stem: str, header: Sequence[str], chunk: list[tuple[AccountingInvoice, list[Row]]]
    ) -> ExportFile:
        first: dict[str, int] = {}
        rows: list[Row] = []
        for invoice, lines in chunk:
            first.setdefault(invoice.record_id, len(rows) + 2)
            rows.extend(lines)
        return ExportFile(write_csv(self.folder, stem, header, rows), first)

    def _xero_rows(self, invoice: AccountingInvoice) -> list[Row]:
        head = (self._name(invoice.contact_id), invoice.number)
        dates = (self._date(invoice.issued_at), self._date(invoice.due_at))
        return [
            (
                *head,
                *dates,
                line.description,
                str(line.quantity),
                amount_text(line.unit_amount),
                line.account_code,
                line.vat_code,
                invoice.currency,
            )
            for line in invoice.lines
        ]

    def _quickbooks_rows(self, invoice: AccountingInvoice) -> list[Row]:
        head = (invoice.number, quickbooks_name(self._name(invoice.contact_id)))
        dates = (self._date(invoice.issued_at), self._date(invoice.due_at), "", "")
        return [
            (
                *head,
                *dates,
                line.account_code,
                line.description,
                str(line.quantity),
                amount_text(line.unit_amount),
                amount_text(line.unit_amount * line.quantity),
                line.vat_code,
                "",
            )
            for line in invoice.lines
        ]

    def _name(self, contact_id: str) -> str:
        contact = self.contacts.get(contact_id)
        return contact.name if contact is not None else ""

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(self.timezone).strftime(self.date_format)


def _chunks(
    invoices: Sequence[AccountingInvoice],
    rows_of: Callable[[AccountingInvoice], list[Row]],
    max_invoices: int,
    max_rows: int | None,
) -> Iterator[list[tuple[AccountingInvoice, list[Row]]]]:
    """Consecutive groups within both limits; an invoice's lines never straddle two files."""
    chunk: list[tuple[AccountingInvoice, list[Row]]] = []
    count = 0
    for invoice in invoices:
        rows = rows_of(invoice)
        if max_rows is not None and len(rows) > max_rows:
            raise InvalidInput(f"invoice {invoice.number} has more than {max_rows} lines")
        too_many_rows = max_rows is not None and count + len(rows) > max_rows
        if chunk and (len(chunk) == max_invoices or too_many_rows):
            yield chunk
            chunk, count = [], 0
        chunk.append((invoice, rows))
        count += len(rows)
    if chunk:
        yield chunk

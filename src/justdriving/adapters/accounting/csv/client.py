"""The AccountingClient port as export files, so ACCOUNTING_PROVIDER=csv runs the same sync job.

Each push writes its records into new files in `folder` (see csv.export) and answers, per
record, an external id "<file name>#<row>" (the spreadsheet row of its first line):
- contacts: `contacts.csv`, Xero's contact import columns, rewritten in place; a contact keeps
  its row, so pushing it again (renamed, say) keeps its external id. Its name is the unique
  "<name> (<our id>)" (an import matches contacts by name), and so is every file's.
- invoices: in the chosen `format`: "xero" or "quickbooks" import files, or "ledger".
- payments and credit notes: ledger files (neither importer takes them from these files).
A record pushed again is written again (the accountant sees the change) and keeps its first
external id. What was exported and each idempotency key's answer are kept in
`.justdriving-export.json`, so the same key replays its answer without writing files, after a
restart too; a key reused for another batch is refused. One writer per folder (a school's
sync job); files are never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from attrs import frozen

from justdriving.adapters.accounting.csv.export import CsvExporter, ExportFile
from justdriving.adapters.accounting.csv.files import csv_bytes, replace_file
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    PushResult,
)
from justdriving.domain.errors import ConfigurationError, ProviderRejected
from justdriving.domain.tax import TaxRate

Format = Literal["ledger", "xero", "quickbooks"]
FORMATS: tuple[Format, ...] = ("ledger", "xero", "quickbooks")
INDEX = ".justdriving-export.json"
CONTACTS = "contacts.csv"
CONTACTS_HEADER = ("*ContactName", "AccountNumber", "EmailAddress")
KINDS = ("contacts", "invoices", "payments", "credit_notes")
T = TypeVar("T", AccountingContact, AccountingInvoice, AccountingPayment, AccountingCreditNote)


@frozen
class _InvoiceRef:
    number: str
    contact_id: str


class CsvAccountingClient:
    """The port over a folder of export files. See the module docstring."""

    def __init__(
        self,
        folder: Path | str,
        format: Format = "ledger",
        *,
        vat_rates: Mapping[str, TaxRate] | None = None,
        timezone: str = "UTC",
        date_format: str = "%d/%m/%Y",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_batch: int = 100,
        name: str = "csv",
    ) -> None:
        if format not in FORMATS:
            raise ConfigurationError(f"CSV export format must be one of {FORMATS}, not {format!r}")
        self.name, self.max_batch, self.format = name, max_batch, format
        self.folder = Path(folder)
        self._exporter_settings: dict[str, Any] = {
            "vat_rates": vat_rates,
            "timezone": timezone,
            "date_format": date_format,
            "clock": clock,
        }
        self._lock = threading.Lock()

    def exported(self, kind: str) -> dict[str, str]:
        """Record id -> external id of everything exported of `kind` (contacts, invoices, ...)."""
        with self._lock:
            book: dict[str, Any] = self._load()[kind]
            return {record_id: entry["external_id"] for record_id, entry in book.items()}

    # The port.

    def upsert_contacts(
        self, contacts: Sequence[AccountingContact], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "contacts", contacts, idempotency_key, self._contact_problem, self._contacts
        )

    def push_invoices(
        self, invoices: Sequence[AccountingInvoice], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "invoices", invoices, idempotency_key, self._invoice_problem, self._invoices
        )

    def push_payments(
        self, payments: Sequence[AccountingPayment], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "payments", payments, idempotency_key, self._payment_problem, self._payments
        )

    def push_credit_notes(
        self, credit_notes: Sequence[AccountingCreditNote], idempotency_key: str
    ) -> list[PushResult]:
        return self._push(
            "credit_notes", credit_notes, idempotency_key, self._note_problem, self._credit_notes
        )

    # One push.

    def _push(
        self,
        kind: str,
        batch: Sequence[T],
        key: str,
        problem: Callable[[T, dict[str, Any]], str | None],
        write: Callable[[list[T], dict[str, Any]], dict[str, str]],
    ) -> list[PushResult]:
        if len(batch) > self.max_batch:
            raise ProviderRejected(
                self.name, f"at most {self.max_batch} records per batch", provider_code="batch"
            )
        if not batch:
            return []
        with self._lock:
            state = self._load()
            fingerprint = hashlib.sha256(repr((kind, list(batch))).encode()).hexdigest()
            reply = state["replies"].get(key)
            if reply is not None:
                if reply["fingerprint"] != fingerprint:
                    raise ProviderRejected(
                        self.name, "idempotency key reused for another batch", provider_code="key"
                    )
                return [PushResult(*result) for result in reply["results"]]
            errors = {record.record_id: problem(record, state) for record in batch}
            written = write([r for r in batch if errors[r.record_id] is None], state)
            book = state[kind]
            for record_id, external_id in written.items():
                book.setdefault(record_id, {"external_id": external_id})
            results = [
                PushResult(r.record_id, error=errors[r.record_id])
                if errors[r.record_id] is not None
                else PushResult(r.record_id, external_id=book[r.record_id]["external_id"])
                for r in batch
            ]
            state["replies"][key] = {
                "fingerprint": fingerprint,
                "results": [[r.record_id, r.external_id, r.error] for r in results],
            }
            self._save(state)
            return results

    # Checks (in batch order, so a second record with a taken number is refused too).

    def _contact_problem(self, contact: AccountingContact, state: dict[str, Any]) -> str | None:
        return None if contact.name.strip() else "a contact needs a name"

    def _invoice_problem(self, invoice: AccountingInvoice, state: dict[str, Any]) -> str | None:
        if state["numbers"].get(invoice.number, invoice.record_id) != invoice.record_id:
            return f"invoice number {invoice.number} is already used"
        if invoice.contact_id not in state["contacts"]:
            return f"no contact {invoice.contact_id}: push the contact first"
        mixed = self.format != "ledger" and len({ln.vat_inclusive for ln in invoice.lines}) > 1
        if mixed:
            return f"a {self.format} import file needs an invoice's lines all inclusive or not"
        problem = self._lines_problem(invoice.lines, invoice.currency, "an invoice", self.format)
        if problem is None:
            state["numbers"][invoice.number] = invoice.record_id
        return problem

    def _payment_problem(self, payment: AccountingPayment, state: dict[str, Any]) -> str | None:
        invoice = _invoice_by_external_id(state, payment.invoice_external_id)
        if invoice is None:
            return f"no invoice {payment.invoice_external_id}"
        if payment.amount.currency != invoice["currency"] or not payment.amount.is_positive:
            return f"a payment of {payment.amount} does not fit an invoice in {invoice['currency']}"
        return None

    def _note_problem(self, note: AccountingCreditNote, state: dict[str, Any]) -> str | None:
        if _invoice_by_external_id(state, note.invoice_external_id) is None:
            return f"no invoice {note.invoice_external_id}"
        return self._lines_problem(note.lines, note.currency, "a credit note", "ledger")

    def _lines_problem(
        self, lines: Sequence[AccountingLine], currency: str, what: str, form: str
    ) -> str | None:
        if not lines:
            return f"{what} needs at least one line"
        rates = self._exporter_settings["vat_rates"] or {}
        for line in lines:
            if line.quantity < 1 or line.unit_amount.currency != currency:
                return f"line {line.description!r} has a bad quantity or currency"
            if not line.account_code or not line.vat_code:
                return f"line {line.description!r} needs an account code and a VAT code"
            if form == "ledger" and line.vat_code not in rates:
                return f"no VAT rate for VAT code {line.vat_code!r}"
        return None

    # Writing.

    def _exporter(self, state: dict[str, Any]) -> CsvExporter:
        contacts = [
            AccountingContact(record_id, entry["name"], entry.get("email"))
            for record_id, entry in state["contacts"].items()
        ]
        return CsvExporter(self.folder, contacts=contacts, **self._exporter_settings)

    def _contacts(self, contacts: list[AccountingContact], state: dict[str, Any]) -> dict[str, str]:
        book = state["contacts"]
        for contact in contacts:
            entry = book.setdefault(contact.record_id, {"row": len(book) + 2})
            # An import matches contacts by name: the unique one, as the API sync names them.
            entry.update(name=contact.unique_name(), email=contact.email)
            entry["external_id"] = f"{CONTACTS}#{entry['row']}"
        rows = sorted(book.items(), key=lambda item: int(item[1]["row"]))
        lines = [(e["name"], record_id, e.get("email") or "") for record_id, e in rows]
        replace_file(self.folder / CONTACTS, csv_bytes(CONTACTS_HEADER, lines))
        return {c.record_id: book[c.record_id]["external_id"] for c in contacts}

    def _invoices(self, invoices: list[AccountingInvoice], state: dict[str, Any]) -> dict[str, str]:
        exporter = self._exporter(state)
        if self.format == "xero":
            files = exporter.xero_files(invoices)
        elif self.format == "quickbooks":
            files = exporter.quickbooks_files(invoices)
        else:
            files = [exporter.ledger_file(invoices=invoices, label="invoices")]
        ids = _external_ids(files)
        for invoice in invoices:
            state["invoices"].setdefault(invoice.record_id, {"external_id": ids[invoice.record_id]})
            state["invoices"][invoice.record_id].update(
                number=invoice.number, contact_id=invoice.contact_id, currency=invoice.currency
            )
        return ids

    def _payments(self, payments: list[AccountingPayment], state: dict[str, Any]) -> dict[str, str]:
        refs = {
            entry["external_id"]: _InvoiceRef(entry["number"], entry["contact_id"])
            for entry in state["invoices"].values()
        }
        exported = self._exporter(state).ledger_file(
            payments=payments, invoices_by_external_id=refs, label="payments"
        )
        return _external_ids([exported])

    def _credit_notes(
        self, notes: list[AccountingCreditNote], state: dict[str, Any]
    ) -> dict[str, str]:
        exported = self._exporter(state).ledger_file(credit_notes=notes, label="credit-notes")
        return _external_ids([exported])

    # The index.

    def _load(self) -> dict[str, Any]:
        path = self.folder / INDEX
        state: dict[str, Any] = json.loads(path.read_bytes()) if path.exists() else {}
        for part in (*KINDS, "replies"):
            state.setdefault(part, {})
        state["numbers"] = {e["number"]: r for r, e in state["invoices"].items()}
        return state

    def _save(self, state: dict[str, Any]) -> None:
        kept = {part: state[part] for part in (*KINDS, "replies")}
        replace_file(self.folder / INDEX, json.dumps(kept, indent=1, sort_keys=True).encode())


def _external_ids(files: list[ExportFile]) -> dict[str, str]:
    return {
        record_id: f"{file.path.name}#{row}"
        for file in files
        for record_id, row in file.rows.items()
    }


def _invoice_by_external_id(state: dict[str, Any], external_id: str) -> dict[str, Any] | None:
    return next((e for e in state["invoices"].values() if e["external_id"] == external_id), None)

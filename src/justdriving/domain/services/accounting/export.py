"""Accounting export: a school's documents as import files (Xero or QuickBooks sales invoices,
or a ledger of invoices, payments and credit notes), from the last export on.

An import file names a contact by its name and an invoice by its number, so that is what the
exported documents carry in `contact_id` and `invoice_external_id`; the name is the one the API
sync gives the contact too, "<name> (<our id>)" (AccountingContact.unique_name). Each export is
recorded as a SyncRun of provider "csv:<format>", whose watermark the next export starts from.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from attrs import frozen

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    SyncRun,
)
from justdriving.domain.errors import ConfigurationError, InvalidInput
from justdriving.domain.ids import new_id
from justdriving.domain.services.accounting.documents import (
    RecordProblem,
    SchoolBooks,
    accounting_credit_note,
    accounting_invoice,
    accounting_payment,
    issued_at,
    load_books,
)
from justdriving.domain.services.accounting.runs import (
    Progress,
    moment,
    next_watermark,
    previous_watermark,
)
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory

T = TypeVar("T")
R = TypeVar("R")


class ExportFormat(enum.StrEnum):
    XERO = "xero"
    QUICKBOOKS = "quickbooks"
    LEDGER = "ledger"

    @property
    def provider(self) -> str:
        return f"csv:{self.value}"


class AccountingExporter(Protocol):
    """Writes accounting documents to import files and returns their paths."""

    def for_school(
        self, school: str, timezone: str, contacts: Sequence[AccountingContact], /
    ) -> AccountingExporter:
        """The exporter for one school's files: its name in the file names, its local dates,
        and the names of the contacts its documents refer to."""
        ...

    def xero_sales_invoices(self, invoices: list[AccountingInvoice], /) -> list[Path]: ...

    def quickbooks_invoices(self, invoices: list[AccountingInvoice], /) -> list[Path]:
        """QuickBooks' import takes files of a limited size: one or more."""
        ...

    def ledger(
        self,
        invoices: list[AccountingInvoice],
        payments: list[AccountingPayment],
        credit_notes: list[AccountingCreditNote],
        /,
    ) -> Path: ...


@frozen
class ExportResult:
    run: SyncRun
    files: tuple[Path, ...]


def _format(value: str) -> ExportFormat:
    try:
        return ExportFormat(value)
    except ValueError:
        choices = ", ".join(f.value for f in ExportFormat)
        raise InvalidInput(f"an export format is one of {choices}") from None


class _ImportNames:
    """References as an import file makes them: contacts by name, invoices by number."""

    def __init__(self, books: SchoolBooks) -> None:
        self._books = books
        self._numbers: dict[str, str | None] = {i.id: i.number for i in books.invoices}

    def contact(self, contact_id: str) -> str:
        """The contact's unique name: an import matches contacts by name, so two students of
        one name must not be named alike (nor differently from one export to the next)."""
        return self._books.contact(contact_id).unique_name()

    def invoice(self, invoice_id: str) -> str:
        number = self._numbers.get(invoice_id)
        if number is None:
            raise RecordProblem(f"invoice {invoice_id} has not been issued")
        return number


class AccountingExport:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, exporter: AccountingExporter | None
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._exporter = exporter

    def run(
        self,
        school_id: str,
        format: ExportFormat,
        *,
        since: date | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Export the school's documents issued since `since` (default: since the last export
        in this format) and before now; a document that cannot be mapped is reported, not
        exported."""
        self._configured()
        format = _format(format)
        started_at = self._clock.now()  # before reading: the watermark must not pass a document
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            books = load_books(uow, school)
            previous = previous_watermark(uow, format.provider, school.id)
        run = SyncRun(
            id=new_id("sync"),
            provider=format.provider,
            school_id=school.id,
            started_at=started_at,
        )
        explicit = moment(school, since)
        files = self._write(format, books, run, explicit or previous, progress)
        run.watermark = next_watermark(run, previous, explicit)
        run.finished_at = self._clock.now()
        with self._uow() as uow:
            uow.sync_runs.add(run)
            uow.commit()
        return ExportResult(run, files)

    def run_all(
        self, format: ExportFormat, *, since: date | None = None, progress: Progress | None = None
    ) -> list[ExportResult]:
        """One export per school."""
        self._configured()
        with self._uow() as uow:
            schools = [s.id for s in uow.schools.list()]
        return [self.run(s, format, since=since, progress=progress) for s in schools]

    def _write(
        self,
        format: ExportFormat,
        books: SchoolBooks,
        run: SyncRun,
        window: datetime | None,
        progress: Progress | None,
    ) -> tuple[Path, ...]:
        ledger = format is ExportFormat.LEDGER

        def after(moment: datetime) -> bool:
            # Up to the run's start, not after: what is issued meanwhile goes in the next file.
            return (window is None or moment >= window) and moment < run.started_at

        invoices = [i for i in books.invoices if after(issued_at(i))]
        payments = [p for p in books.payments if ledger and after(p.paid_at)]
        notes = [n for n in books.credit_notes if ledger and after(n.issued_at)]
        export = _Export(books.school.name, run, progress, len(invoices + payments + notes))
        names = _ImportNames(books)
        written = (
            export.build(invoices, lambda i: accounting_invoice(books, i, names), lambda i: i.id),
            export.build(payments, lambda p: accounting_payment(p, names), lambda p: p.payment.id),
            export.build(notes, lambda n: accounting_credit_note(books, n, names), lambda n: n.id),
        )
        if not any(written):
            return ()
        contacts = [books.contact(c) for c in {books.contact_id(s) for s in books.students}]
        named = [
            AccountingContact(names.contact(c.record_id), names.contact(c.record_id), c.email)
            for c in contacts
        ]
        school = books.school
        exporter = self._configured().for_school(school.name, school.timezone, named)
        if ledger:
            return (exporter.ledger(*written),)
        if format is ExportFormat.XERO:
            return tuple(exporter.xero_sales_invoices(written[0]))
        return tuple(exporter.quickbooks_invoices(written[0]))

    def _configured(self) -> AccountingExporter:
        if self._exporter is None:
            raise ConfigurationError(
                "ACCOUNTING_EXPORT_DIR is not set",
                [
                    "set it to the folder the CSV files go to "
                    "(e.g. ACCOUNTING_EXPORT_DIR=accounting-exports)"
                ],
            )
        return self._exporter


class _Export:
    """Builds what an export writes, counting exported records and failures on the run."""

    def __init__(self, school: str, run: SyncRun, progress: Progress | None, total: int) -> None:
        self._school, self._run = school, run
        self._progress = progress
        self._done, self._total = 0, total

    def build(
        self,
        documents: Sequence[T],
        build: Callable[[T], R],
        record_id: Callable[[T], str],
    ) -> list[R]:
        built: list[R] = []
        for document in documents:
            try:
                built.append(build(document))
            except RecordProblem as problem:
                self._run.failures = (*self._run.failures, (record_id(document), str(problem)))
            self._done += 1
            if self._progress is not None:
                self._progress(self._school, self._done, self._total)
        self._run.pushed += len(built)
        return built

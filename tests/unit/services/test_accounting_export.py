"""Accounting export: the same documents as the sync, named as import files name them, handed
to the exporter in the chosen format, and recorded as a run that the next export starts from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
)
from justdriving.domain.errors import ConfigurationError, InvalidInput
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.accounting.export import AccountingExport, ExportFormat

from .test_accounting_fixtures import ACCOUNTS, accounting_school, busy_school, invoice, student


class RecordingExporter:
    """Keeps what it was asked to write; returns made-up paths."""

    def __init__(self) -> None:
        self.written: list[tuple[str, tuple[list[Any], ...]]] = []
        self.schools: list[tuple[str, str, list[AccountingContact]]] = []

    def for_school(
        self, school: str, timezone: str, contacts: Sequence[AccountingContact]
    ) -> RecordingExporter:
        self.schools.append((school, timezone, list(contacts)))
        return self

    def xero_sales_invoices(self, invoices: list[AccountingInvoice]) -> list[Path]:
        self.written.append(("xero", (invoices,)))
        return [Path("xero-1.csv")]

    def quickbooks_invoices(self, invoices: list[AccountingInvoice]) -> list[Path]:
        self.written.append(("quickbooks", (invoices,)))
        return [Path("quickbooks.csv")]

    def ledger(
        self,
        invoices: list[AccountingInvoice],
        payments: list[AccountingPayment],
        credit_notes: list[AccountingCreditNote],
    ) -> Path:
        self.written.append(("ledger", (invoices, payments, credit_notes)))
        return Path("ledger.csv")


@pytest.fixture
def exporter() -> RecordingExporter:
    return RecordingExporter()


@pytest.fixture
def export(store: MemoryStore, clock: FrozenClock, exporter: RecordingExporter) -> AccountingExport:
    return AccountingExport(MemoryUnitOfWorkFactory(store), clock, exporter)


def test_xero_gets_the_sales_invoices_named_by_contact_name_and_number(
    app: Application, export: AccountingExport, exporter: RecordingExporter
) -> None:
    books = busy_school(app)

    result = export.run(books.school.id, ExportFormat.XERO)

    assert result.files == (Path("xero-1.csv"),)
    [(format, (invoices,))] = exporter.written
    assert format == "xero"
    assert [i.number for i in invoices] == [i.number for i in books.invoices]
    assert invoices[0].contact_id == f"Anna Andersen ({books.students[0].id})"
    assert invoices[0].lines[0].account_code == ACCOUNTS[InvoiceService.LESSON].account_code
    # The files are the school's, and name its contacts as the documents refer to them.
    [(school, timezone, contacts)] = exporter.schools
    assert (school, timezone) == (books.school.name, books.school.timezone)
    assert {c.record_id for c in contacts} >= {i.contact_id for i in invoices}
    assert all(c.record_id == c.name for c in contacts)
    assert (result.run.provider, result.run.pushed, result.run.failures) == ("csv:xero", 5, ())


def test_two_students_of_one_name_are_two_contacts_in_the_import_file(
    app: Application, export: AccountingExport, exporter: RecordingExporter
) -> None:
    school = accounting_school(app)
    twins = [student(app, school, "Jonas Madsen") for _ in range(2)]
    for twin in twins:
        invoice(app, school, twin)

    export.run(school.id, ExportFormat.XERO)

    [(_, (invoices,))] = exporter.written
    names = [i.contact_id for i in invoices]
    assert names == [f"Jonas Madsen ({twin.id})" for twin in twins]
    [(_, _, contacts)] = exporter.schools
    assert {c.record_id for c in contacts} == set(names)


def test_the_ledger_has_payments_and_credit_notes_naming_their_invoice_by_number(
    app: Application, export: AccountingExport, exporter: RecordingExporter
) -> None:
    books = busy_school(app)

    result = export.run(books.school.id, ExportFormat.LEDGER)

    [(_, (invoices, payments, notes))] = exporter.written
    assert (len(invoices), len(payments), len(notes)) == (5, 3, 2)
    assert payments[1].invoice_external_id == books.invoices[1].number
    assert notes[0].invoice_external_id == books.invoices[2].number
    assert result.run.pushed == 10


def test_quickbooks_gets_one_file(
    app: Application, export: AccountingExport, exporter: RecordingExporter
) -> None:
    books = busy_school(app)

    result = export.run(books.school.id, "quickbooks")  # type: ignore[arg-type]

    assert result.files == (Path("quickbooks.csv"),)
    assert exporter.written[0][0] == "quickbooks"


def test_an_unmapped_invoice_is_reported_and_left_out(
    app: Application, export: AccountingExport, exporter: RecordingExporter
) -> None:
    school = accounting_school(
        app, accounts={InvoiceService.LESSON: ACCOUNTS[InvoiceService.LESSON]}
    )
    anna = student(app, school, "Anna Andersen")
    kept = invoice(app, school, anna)
    left = invoice(app, school, anna, (InvoiceService.MATERIALS, "100.00"))

    result = export.run(school.id, ExportFormat.XERO)

    assert [i.record_id for i in exporter.written[0][1][0]] == [kept.id]
    [(record_id, reason)] = result.run.failures
    assert record_id == left.id
    assert reason.startswith("no account code for materials in Køreskolen Vest: set account_map[")


def test_the_next_export_starts_where_the_last_one_ended(
    app: Application, export: AccountingExport, exporter: RecordingExporter, clock: FrozenClock
) -> None:
    books = busy_school(app)
    export.run(books.school.id, ExportFormat.XERO)
    clock.advance(timedelta(days=1))
    new = invoice(app, books.school, books.students[0])

    second = export.run(books.school.id, ExportFormat.XERO)
    clock.advance(timedelta(days=1))
    nothing = export.run(books.school.id, ExportFormat.XERO)
    everything = export.run(books.school.id, ExportFormat.XERO, since=date(2025, 3, 1))

    assert [i.record_id for i in exporter.written[1][1][0]] == [new.id]
    assert (second.run.pushed, nothing.run.pushed, nothing.files) == (1, 0, ())
    assert everything.run.pushed == 6
    ledger = export.run(books.school.id, ExportFormat.LEDGER)
    assert ledger.run.pushed == 11  # each format keeps its own watermark


def test_without_an_export_folder_the_export_says_so(app: Application) -> None:
    school = accounting_school(app)

    with pytest.raises(ConfigurationError, match="ACCOUNTING_EXPORT_DIR"):
        app.export_accounting(school.id, ExportFormat.XERO)


def test_an_unknown_format_is_refused(app: Application, export: AccountingExport) -> None:
    school = accounting_school(app)

    with pytest.raises(InvalidInput, match="xero, quickbooks, ledger"):
        export.run(school.id, "sage")  # type: ignore[arg-type]


def test_the_facade_exports_every_school_with_progress(
    store: MemoryStore, clock: FrozenClock, exporter: RecordingExporter
) -> None:
    app = Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        exporter=exporter,
    )
    busy_school(app, "Køreskolen Vest")
    busy_school(app, "Køreskolen Øst")
    seen: list[tuple[str, int, int]] = []

    results = app.export_all_accounting(ExportFormat.LEDGER, progress=lambda *a: seen.append(a))

    assert [r.run.pushed for r in results] == [10, 10]
    assert ("Køreskolen Øst", 10, 10) in seen

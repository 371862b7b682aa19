"""The demo's books reach Xero (through its simulator) and a CSV ledger with the same totals
as the database: invoices, payments and the refund's credit note."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from justdriving.adapters.sql.engine import make_engine
from justdriving.adapters.sql.schema import upgrade
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.config import Settings
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.services.accounting.export import ExportFormat
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.entrypoints.demo import run_demo
from justdriving.testing.xero.simulator import XeroSimulator


def test_the_demo_flow_lands_in_xero_and_in_the_ledger_with_the_databases_totals(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'books.db'}"
    with XeroSimulator() as xero:
        engine = make_engine(url)
        upgrade(engine)
        StoredGrants(SqlUnitOfWorkFactory(engine)).save(xero.grant())
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "ACCOUNTING_PROVIDER": "xero",
                "ACCOUNTING_API_KEY": xero.client_id,
                "ACCOUNTING_API_SECRET": xero.client_secret,
                "ACCOUNTING_TENANT_ID": xero.tenant_id,
                "ACCOUNTING_API_BASE_URL": xero.base_url,
                "ACCOUNTING_TOKEN_URL": xero.base_url,
                "ACCOUNTING_PAYMENT_ACCOUNT": "090",
                "ACCOUNTING_EXPORT_DIR": str(tmp_path / "exports"),
            },
            env_file=None,
        )
        app = run_demo(settings, Console(file=io.StringIO()))

        [run] = app.sync_all_accounting()
        [again] = app.sync_all_accounting()

        assert run.failures == ()
        assert run.pushed >= 3
        assert again.pushed == 0
        with app.uow() as uow:
            [school] = uow.schools.list()
            students = uow.students.for_school(school.id)
            invoices = [
                i
                for s in students
                for i in uow.invoices.for_student(school.id, s.id)
                if i.status is not InvoiceStatus.DRAFT
            ]
            notes = [c for s in students for c in uow.credit_notes.for_student(school.id, s.id)]
            payments = [
                p
                for s in students
                for p in uow.payments.for_student(school.id, s.id)
                if p.status is PaymentStatus.SUCCEEDED
            ]
            refunds = [
                r
                for s in students
                for r in uow.refunds.for_student(school.id, s.id)
                if r.status is RefundStatus.SUCCEEDED
            ]
        invoiced = sum((i.totals.gross.to_decimal() for i in invoices), Decimal(0))
        credited = sum((c.totals.gross.to_decimal() for c in notes), Decimal(0))
        paid = sum((p.captured.to_decimal() for p in payments), Decimal(0))
        refunded = sum((r.amount.to_decimal() for r in refunds), Decimal(0))
        assert sum((d.total for d in xero.books.invoices.values()), Decimal(0)) == invoiced
        assert sum((d.total for d in xero.books.credit_notes.values()), Decimal(0)) == credited
        received = [p for p in xero.books.payments.values() if p.invoice.kind == "ACCREC"]
        paid_back = [p for p in xero.books.payments.values() if p.invoice.kind != "ACCREC"]
        assert sum((p.amount for p in received), Decimal(0)) == paid
        assert sum((p.amount for p in paid_back), Decimal(0)) == refunded
        assert all(note.remaining_credit == 0 for note in xero.books.credit_notes.values())

        [export] = app.export_all_accounting(ExportFormat.LEDGER)
        [ledger] = export.files
        rows = list(csv.DictReader(ledger.read_text(encoding="utf-8-sig").splitlines()))
        by_type: dict[str, Decimal] = {}
        for row in rows:
            by_type[row["Type"]] = by_type.get(row["Type"], Decimal(0)) + Decimal(row["Gross"])
        assert by_type["invoice"] == invoiced
        assert -by_type["credit_note"] == credited
        assert by_type["payment"] == paid
        assert -by_type["refund"] == refunded

"""CsvAccountingClient: the port as export files. What only it has: file#row external ids, the
contacts file, formats, and replays that survive a restart. The provider-neutral behaviour is
in test_accounting_contract.py (the `csv` entry of ACCOUNTING)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from justdriving.adapters.accounting.csv.client import CsvAccountingClient, Format
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.errors import ConfigurationError, ProviderRejected
from justdriving.domain.money import Money
from justdriving.domain.tax import TaxRate

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
LESSON = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "1000", "U25", True)
STAMP = "20250314T093000Z"


def make(folder: Path, form: Format = "xero") -> CsvAccountingClient:
    return CsvAccountingClient(
        folder,
        form,
        vat_rates={"U25": TaxRate(2500)},
        timezone="Europe/Copenhagen",
        clock=lambda: NOW,
    )


def invoice(n: int = 1, *lines: AccountingLine) -> AccountingInvoice:
    return AccountingInvoice(
        f"inv_{n}", str(n), "stu_1", NOW, NOW + timedelta(days=14), "DKK", lines or (LESSON,)
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def client(tmp_path: Path) -> CsvAccountingClient:
    made = make(tmp_path)
    made.upsert_contacts([AccountingContact("stu_1", "Søren", "s@example.dk")], "contacts")
    return made


def test_an_external_id_names_the_file_and_the_row(
    client: CsvAccountingClient, tmp_path: Path
) -> None:
    results = client.push_invoices([invoice(1, LESSON, LESSON), invoice(2)], "invoices")
    name = f"xero-sales-invoices-tax-inclusive-{STAMP}-part1of1.csv"
    assert [r.external_id for r in results] == [f"{name}#2", f"{name}#4"]
    assert [r["*InvoiceNumber"] for r in rows(tmp_path / name)] == ["1", "1", "2"]


def test_contacts_keep_their_row_in_the_contacts_file(
    client: CsvAccountingClient, tmp_path: Path
) -> None:
    [second] = client.upsert_contacts([AccountingContact("stu_2", "Anna")], "more")
    [renamed] = client.upsert_contacts([AccountingContact("stu_1", "Søren Berg")], "rename")
    assert (second.external_id, renamed.external_id) == ("contacts.csv#3", "contacts.csv#2")
    assert rows(tmp_path / "contacts.csv") == [
        {"*ContactName": "Søren Berg (stu_1)", "AccountNumber": "stu_1", "EmailAddress": ""},
        {"*ContactName": "Anna (stu_2)", "AccountNumber": "stu_2", "EmailAddress": ""},
    ]


def test_payments_and_credit_notes_go_to_ledger_files(
    client: CsvAccountingClient, tmp_path: Path
) -> None:
    [booked] = client.push_invoices([invoice()], "invoices")
    assert booked.external_id is not None
    paid = AccountingPayment("pay_1", booked.external_id, Money(50000, "DKK"), NOW, "pi_1")
    [payment] = client.push_payments([paid], "payments")
    note = AccountingCreditNote("cn_1", "K1", "stu_1", booked.external_id, NOW, "DKK", (LESSON,))
    [credit] = client.push_credit_notes([note], "notes")
    assert payment.external_id == f"ledger-payments-{STAMP}.csv#2"
    assert credit.external_id == f"ledger-credit-notes-{STAMP}.csv#2"
    [payment_row] = rows(tmp_path / f"ledger-payments-{STAMP}.csv")
    assert (payment_row["Contact"], payment_row["Description"]) == (
        "Søren (stu_1)",
        "Payment for invoice 1",
    )
    [note_row] = rows(tmp_path / f"ledger-credit-notes-{STAMP}.csv")
    assert (note_row["Gross"], note_row["VAT"]) == ("-500.00", "-100.00")


@pytest.mark.parametrize(
    ("form", "prefix"),
    [("quickbooks", "quickbooks-invoices-tax-inclusive"), ("ledger", "ledger-invoices")],
)
def test_invoices_go_into_the_chosen_format(tmp_path: Path, form: Format, prefix: str) -> None:
    made = make(tmp_path, form)
    made.upsert_contacts([AccountingContact("stu_1", "Søren")], "contacts")
    [result] = made.push_invoices([invoice()], "invoices")
    assert (result.external_id or "").startswith(prefix)


def test_a_replay_after_a_restart_writes_nothing(
    client: CsvAccountingClient, tmp_path: Path
) -> None:
    first = client.push_invoices([invoice()], "invoices")
    files = sorted(tmp_path.iterdir())
    again = make(tmp_path).push_invoices([invoice()], "invoices")
    assert again == first
    assert sorted(tmp_path.iterdir()) == files


def test_a_key_reused_for_another_batch_is_refused(client: CsvAccountingClient) -> None:
    client.push_invoices([invoice(1)], "invoices")
    with pytest.raises(ProviderRejected):
        client.push_invoices([invoice(2)], "invoices")


def test_an_invoice_pushed_again_is_written_again_under_its_first_id(
    client: CsvAccountingClient, tmp_path: Path
) -> None:
    [first] = client.push_invoices([invoice(1)], "invoices_1")
    [again] = client.push_invoices([invoice(1, LESSON, LESSON)], "invoices_2")
    assert again.external_id == first.external_id
    assert len(list(tmp_path.glob("xero-sales-invoices-*.csv"))) == 2


def test_records_it_cannot_write_are_refused_alone(client: CsvAccountingClient) -> None:
    exclusive = AccountingLine("Theory", 1, Money(10000, "DKK"), "1000", "U25", False)
    unknown_code = AccountingLine("Theory", 1, Money(10000, "DKK"), "1000", "H12", True)
    stranger = AccountingInvoice("inv_9", "9", "stu_9", NOW, NOW, "DKK", (LESSON,))
    batch = [invoice(1, LESSON, exclusive), stranger, invoice(3), invoice(4, unknown_code)]
    results = client.push_invoices(batch, "invoices")
    assert [r.ok for r in results] == [False, False, True, True]  # Xero files need no rates
    assert "all inclusive" in (results[0].error or "")
    assert "push the contact first" in (results[1].error or "")
    note = AccountingCreditNote(
        "cn_1", "K1", "stu_1", results[2].external_id or "", NOW, "DKK", (unknown_code,)
    )
    [refused] = client.push_credit_notes([note], "notes")
    assert "no VAT rate for VAT code 'H12'" in (refused.error or "")


def test_the_same_number_twice_in_one_batch_is_refused_the_second_time(
    client: CsvAccountingClient,
) -> None:
    twin = AccountingInvoice("inv_twin", "1", "stu_1", NOW, NOW, "DKK", (LESSON,))
    results = client.push_invoices([invoice(1), twin], "invoices")
    assert [r.ok for r in results] == [True, False]


def test_an_unknown_format_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        CsvAccountingClient(tmp_path, "sie")  # type: ignore[arg-type]

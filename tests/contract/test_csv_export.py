"""CSV exports read back with the csv module, column by column: Xero's and QuickBooks' import
files and the plain ledger."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from justdriving.adapters.accounting.csv.export import (
    LEDGER_HEADER,
    QUICKBOOKS_HEADER,
    XERO_HEADER,
    CsvExporter,
)
from justdriving.adapters.accounting.csv.files import file_label
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.tax import Amounts, TaxRate

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
ISSUED = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)  # the 15th in Copenhagen
VAT = {"U25": TaxRate(2500), "Z0": TaxRate(0)}
CONTACTS = [AccountingContact("stu_1", "Søren Ærø"), AccountingContact("stu_2", "Anna, Berg")]


def line(
    amount: int = 50000, quantity: int = 1, inclusive: bool = True, code: str = "U25"
) -> AccountingLine:
    return AccountingLine(
        f"Lesson {amount}", quantity, Money(amount, "DKK"), "1000", code, inclusive
    )


def invoice(
    n: int, *lines: AccountingLine, contact_id: str = "stu_1", currency: str = "DKK"
) -> AccountingInvoice:
    return AccountingInvoice(
        f"inv_{n}",
        f"{n}",
        contact_id,
        ISSUED,
        ISSUED + timedelta(days=14),
        currency,
        lines or (line(),),
    )


def exporter(folder: Path, **options: object) -> CsvExporter:
    settings: dict[str, object] = {
        "contacts": CONTACTS,
        "vat_rates": VAT,
        "timezone": "Europe/Copenhagen",
        "clock": lambda: NOW,
        **options,
    }
    return CsvExporter(folder, **settings)  # type: ignore[arg-type]


def read(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return next(csv.reader(file))


def gross(documents: Sequence[AccountingInvoice | AccountingCreditNote]) -> Decimal:
    total = Decimal(0)
    for document in documents:
        for item in document.lines:
            amounts = Amounts.of(
                item.unit_amount * item.quantity,
                VAT[item.vat_code],
                vat_inclusive=item.vat_inclusive,
            )
            total += amounts.gross.to_decimal()
    return total


# Xero ---------------------------------------------------------------------------------------


def test_a_xero_file_has_the_template_columns_one_row_per_line(tmp_path: Path) -> None:
    two_lines = invoice(1, line(50000), line(12550, quantity=2))
    [path] = exporter(tmp_path).xero_sales_invoices([two_lines, invoice(2, contact_id="stu_2")])
    assert header(path) == list(XERO_HEADER)
    rows = read(path)
    assert [r["*InvoiceNumber"] for r in rows] == ["1", "1", "2"]
    first, second, third = rows
    assert first["*ContactName"] == "Søren Ærø"
    assert third["*ContactName"] == "Anna, Berg"
    assert (first["*InvoiceDate"], first["*DueDate"]) == ("15/03/2025", "29/03/2025")
    assert first["*Description"] == "Lesson 50000"
    assert (second["*Quantity"], second["*UnitAmount"]) == ("2", "125.50")
    assert (first["*AccountCode"], first["*TaxType"], first["Currency"]) == ("1000", "U25", "DKK")


def test_xero_files_are_split_into_tax_inclusive_and_exclusive(tmp_path: Path) -> None:
    inclusive, exclusive = invoice(1, line(inclusive=True)), invoice(2, line(inclusive=False))
    paths = exporter(tmp_path).xero_sales_invoices([exclusive, inclusive])
    assert [p.name for p in paths] == [
        "xero-sales-invoices-tax-inclusive-20250314T093000Z-part1of1.csv",
        "xero-sales-invoices-tax-exclusive-20250314T093000Z-part1of1.csv",
    ]
    assert [r["*InvoiceNumber"] for r in read(paths[0])] == ["1"]
    assert [r["*InvoiceNumber"] for r in read(paths[1])] == ["2"]


def test_501_invoices_make_two_xero_files_and_no_invoice_is_split(tmp_path: Path) -> None:
    invoices = [invoice(n, line(), line(100)) for n in range(1, 502)]
    first, second = exporter(tmp_path).xero_sales_invoices(invoices)
    assert first.name.endswith("part1of2.csv")
    assert second.name.endswith("part2of2.csv")
    assert len({r["*InvoiceNumber"] for r in read(first)}) == 500
    assert [r["*InvoiceNumber"] for r in read(second)] == ["501", "501"]


def test_an_invoice_mixing_inclusive_and_exclusive_lines_cannot_be_imported(
    tmp_path: Path,
) -> None:
    with pytest.raises(InvalidInput, match="mixes"):
        exporter(tmp_path).xero_sales_invoices([invoice(1, line(), line(inclusive=False))])
    with pytest.raises(InvalidInput, match="no contact stu_9"):
        exporter(tmp_path).xero_sales_invoices([invoice(2, contact_id="stu_9")])
    assert list(tmp_path.iterdir()) == []


def test_the_date_format_can_follow_the_organisation(tmp_path: Path) -> None:
    [path] = exporter(tmp_path, date_format="%m/%d/%Y").xero_sales_invoices([invoice(1)])
    assert read(path)[0]["*InvoiceDate"] == "03/15/2025"


def test_amounts_keep_the_currency_decimals(tmp_path: Path) -> None:
    yen = AccountingLine("Lesson", 1, Money(5000, "JPY"), "1000", "U25", True)
    dinar = AccountingLine("Lesson", 1, Money(10, "BHD"), "1000", "U25", True)
    [path] = exporter(tmp_path).xero_sales_invoices(
        [invoice(1, yen, currency="JPY"), invoice(2, dinar, currency="BHD"), invoice(3, line(10))]
    )
    assert [r["*UnitAmount"] for r in read(path)] == ["5000", "0.010", "0.10"]


# QuickBooks ---------------------------------------------------------------------------------


def test_a_quickbooks_file_has_its_import_columns(tmp_path: Path) -> None:
    [path] = exporter(tmp_path).quickbooks_invoices([invoice(1, line(12550, quantity=2))])
    assert header(path) == list(QUICKBOOKS_HEADER)
    [row] = read(path)
    assert row == {
        "Invoice no": "1",
        "Customer": "Søren Ærø",
        "Invoice date": "15/03/2025",
        "Due date": "29/03/2025",
        "Terms": "",
        "Memo": "",
        "Item(Product/Service)": "1000",
        "Item description": "Lesson 12550",
        "Item quantity": "2",
        "Item rate": "125.50",
        "Item amount": "251.00",
        "Item tax code": "U25",
        "Service date": "",
    }


def test_a_quickbooks_customer_is_written_without_the_colon_that_makes_a_sub_customer(
    tmp_path: Path,
) -> None:
    contacts = [AccountingContact("Hansen: Sofie (stu_1)", "Hansen: Sofie (stu_1)")]
    paths = exporter(tmp_path, contacts=contacts).quickbooks_invoices(
        [invoice(1, contact_id="Hansen: Sofie (stu_1)")]
    )
    assert [row["Customer"] for row in read(paths[0])] == ["Hansen Sofie (stu_1)"]


def test_quickbooks_files_hold_100_invoices_and_1000_rows_at_most(tmp_path: Path) -> None:
    many = exporter(tmp_path / "many").quickbooks_invoices([invoice(n) for n in range(101)])
    assert [len(read(p)) for p in many] == [100, 1]
    long = [invoice(n, *[line()] * 300) for n in range(4)]
    paths = exporter(tmp_path / "long").quickbooks_invoices(long)
    assert [len(read(p)) for p in paths] == [900, 300]


def test_quickbooks_files_are_split_by_tax_mode_too(tmp_path: Path) -> None:
    paths = exporter(tmp_path).quickbooks_invoices([invoice(1), invoice(2, line(inclusive=False))])
    assert ["tax-inclusive" in p.name for p in paths] == [True, False]


def test_an_import_total_equals_the_documents_net_or_gross(tmp_path: Path) -> None:
    invoices = [invoice(n, line(12345 + n, quantity=n % 3 + 1), line(999)) for n in range(40)]
    [path] = exporter(tmp_path).quickbooks_invoices(invoices)
    exported = sum(Decimal(r["Item amount"]) for r in read(path))
    assert exported == gross(invoices)  # all inclusive: the amounts are the gross


# Ledger -------------------------------------------------------------------------------------


def test_the_ledger_signs_credit_notes_and_refunds_negative(tmp_path: Path) -> None:
    sold = invoice(1, line(50000), line(10000, inclusive=False))
    note = AccountingCreditNote("cn_1", "K1", "stu_1", "ext_1", ISSUED, "DKK", (line(20000),))
    paid = AccountingPayment("pay_1", "ext_1", Money(62500, "DKK"), NOW, "pi_1")
    refund = AccountingPayment(
        "ref_1", "ext_1", Money(-20000, "DKK"), NOW + timedelta(days=2), "re_1"
    )
    path = exporter(tmp_path).ledger(
        [sold], [paid, refund], [note], invoices_by_external_id={"ext_1": sold}
    )
    assert header(path) == list(LEDGER_HEADER)
    rows = read(path)
    assert [(r["Date"], r["Type"], r["Gross"]) for r in rows] == [
        ("2025-03-14", "payment", "625.00"),
        ("2025-03-15", "invoice", "500.00"),
        ("2025-03-15", "invoice", "125.00"),
        ("2025-03-15", "credit_note", "-200.00"),
        ("2025-03-16", "refund", "-200.00"),
    ]
    payment_row, first_line, second_line, note_row, refund_row = rows
    assert (first_line["Net"], first_line["VAT"]) == ("400.00", "100.00")
    assert (second_line["Net"], second_line["VAT"]) == ("100.00", "25.00")
    assert (note_row["Net"], note_row["VAT"], note_row["Number"]) == ("-160.00", "-40.00", "K1")
    assert payment_row["Contact"] == "Søren Ærø"
    assert payment_row["Description"] == "Payment for invoice 1"
    assert (payment_row["Number"], payment_row["VAT"]) == ("pi_1", "0.00")
    assert refund_row["Net"] == "-200.00"


def test_the_ledger_gross_sums_to_the_documents_gross(tmp_path: Path) -> None:
    invoices = [
        invoice(n, line(9999 + n, quantity=n % 4 + 1, inclusive=n % 2 == 0), line(333, code="Z0"))
        for n in range(60)
    ]
    notes = [
        AccountingCreditNote(f"cn_{n}", f"K{n}", "stu_2", "x", NOW, "DKK", (line(777 + n),))
        for n in range(7)
    ]
    rows = read(exporter(tmp_path).ledger(invoices, (), notes))
    assert sum(Decimal(r["Gross"]) for r in rows) == gross(invoices) - gross(notes)
    assert all(Decimal(r["Net"]) + Decimal(r["VAT"]) == Decimal(r["Gross"]) for r in rows)


def test_the_ledger_needs_a_rate_for_every_vat_code(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="'H12'"):
        exporter(tmp_path).ledger([invoice(1, line(code="H12"))])


# Files --------------------------------------------------------------------------------------


def test_files_are_written_whole_and_never_over_another(tmp_path: Path) -> None:
    first = exporter(tmp_path).ledger([invoice(1)])
    second = exporter(tmp_path).ledger([invoice(2)])  # the same second
    assert first.name == "ledger-20250314T093000Z.csv"
    assert second.name == "ledger-20250314T093000Z-2.csv"
    assert read(first)[0]["Number"] == "1"
    assert {p.name for p in tmp_path.iterdir()} == {first.name, second.name}  # no temp files


def test_where_each_record_landed_is_its_row_in_the_file(tmp_path: Path) -> None:
    [written] = exporter(tmp_path).xero_files([invoice(1, line(), line()), invoice(2)])
    assert dict(written.rows) == {"inv_1": 2, "inv_2": 4}


def test_a_schools_files_carry_its_name_and_its_contacts(tmp_path: Path) -> None:
    bare = exporter(tmp_path, contacts=[])
    for_school = bare.for_school("Køreskolen Ærø & Co.", "Europe/Copenhagen", CONTACTS)

    [xero] = for_school.xero_sales_invoices([invoice(1)])
    ledger = for_school.ledger([invoice(2, contact_id="stu_2")])

    assert (
        xero.name
        == "xero-sales-invoices-koreskolen-aero-co-tax-inclusive-20250314T093000Z-part1of1.csv"
    )
    assert ledger.name == "ledger-koreskolen-aero-co-20250314T093000Z.csv"
    assert read(xero)[0]["*ContactName"] == "Søren Ærø"
    assert read(ledger)[0]["Contact"] == "Anna, Berg"
    assert read(xero)[0]["*InvoiceDate"] == "15/03/2025"  # the school's local day
    # The exporter it was made from is unchanged: it knows no contact.
    assert bare.invoice_problem(invoice(3)) is not None


def test_without_the_schools_contacts_the_problem_says_how_to_give_them(tmp_path: Path) -> None:
    problem = exporter(tmp_path, contacts=[]).invoice_problem(invoice(1))

    assert problem is not None
    assert "no contact stu_1" in problem
    assert "for_school" in problem


@pytest.mark.parametrize(
    ("name", "label"),
    [("Køreskolen Nord", "koreskolen-nord"), ("Ålborg Æ/S", "alborg-ae-s"), ("§ ¤", "")],
)
def test_a_school_name_becomes_a_file_name_part(name: str, label: str) -> None:
    assert file_label(name) == label

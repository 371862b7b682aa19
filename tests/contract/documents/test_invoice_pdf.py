"""Invoice and credit note PDFs: what every InvoicePdf promises, checked on the extracted text."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from justdriving.adapters.documents import FpdfInvoicePdf
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import InvoiceId, SchoolId, StudentId
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceLine
from justdriving.domain.money import Money
from justdriving.domain.people import EmailAddress, Student
from justdriving.domain.schools import (
    DANISH_VAT,
    Branding,
    InvoiceService,
    School,
    SchoolSettings,
)
from justdriving.domain.tax import TaxRate
from justdriving.ports.documents import InvoicePdf

ISSUED = datetime(2025, 3, 14, 23, 30, tzinfo=UTC)  # already the 15th in Copenhagen
IMPLEMENTATIONS: list[Callable[[], InvoicePdf]] = [FpdfInvoicePdf]


@pytest.fixture(params=IMPLEMENTATIONS, ids=["fpdf"])
def pdf(request: pytest.FixtureRequest) -> InvoicePdf:
    factory: Callable[[], InvoicePdf] = request.param
    return factory()


def a_school(currency: str = "DKK") -> School:
    return School(
        id=SchoolId("sch_nord"),
        name="Køreskolen Nord ApS",
        currency=currency,
        vat_number="DK12345678",
        contact_phone="+4570203040",
        contact_email="kontor@koreskolen-nord.dk",
        settings=SchoolSettings(branding=Branding(colour="#c8102e", footer="Nørregade 1, Aalborg")),
    )


def a_student(language: str = "da") -> Student:
    return Student(
        id=StudentId("stu_soren"),
        school_id=SchoolId("sch_nord"),
        name="Søren Ærø Åberg",
        email=EmailAddress("soren@example.dk"),
        language=language,
    )


def a_draft(currency: str = "DKK", lessons: int = 10, price: int = 55_000) -> Invoice:
    invoice = Invoice(
        id=InvoiceId("inv_1"),
        school_id=SchoolId("sch_nord"),
        student_id=StudentId("stu_soren"),
        currency=currency,
    )
    line = InvoiceLine(
        InvoiceService.LESSON, "Kørekort B: køretime", lessons, Money(price, currency), DANISH_VAT
    )
    invoice.add_line(line)
    return invoice


def an_invoice(currency: str = "DKK", number: str = "2025-1042") -> Invoice:
    invoice = a_draft(currency)
    if currency == "DKK":
        materials = InvoiceLine(
            InvoiceService.MATERIALS,
            "Teoribog",
            1,
            Money(39_900, "DKK"),
            TaxRate(0),
            vat_inclusive=False,
        )
        invoice.add_line(materials)
    invoice.issue(number, ISSUED, timedelta(days=14))
    return invoice


def text_of(document: bytes) -> str:
    reader = PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_an_invoice_renders_as_a_pdf_with_its_number_dates_and_totals(pdf: InvoicePdf) -> None:
    document = pdf.render(an_invoice(), a_school(), a_student())
    assert document.startswith(b"%PDF-")
    text = text_of(document)
    for expected in (
        "Faktura",
        "2025-1042",
        "15.03.2025",  # issue date, in the school's timezone
        "29.03.2025",  # due date
        "Køreskolen Nord ApS",
        "CVR-nr. DK12345678",
        "+45 70 20 30 40",
        "kontor@koreskolen-nord.dk",
        "Søren Ærø Åberg",
        "Kørekort B: køretime",
        "4.400,00",  # 10 times 440,00 excl. 25 % VAT
        "4.799,00 DKK",  # net: 4.400,00 + 399,00
        "Moms 25 % af 4.400,00 1.100,00",  # VAT per rate
        "5.899,00 DKK",  # gross
        "Nørregade 1, Aalborg",
    ):
        assert expected in text, expected


def test_the_lines_show_quantity_unit_price_and_amount_excluding_vat_and_the_vat_rate(
    pdf: InvoicePdf,
) -> None:
    text = text_of(pdf.render(an_invoice(), a_school(), a_student()))
    assert "10 440,00 25 % 4.400,00" in text  # 550,00 incl. VAT is 440,00 excl.
    assert "1 399,00 0 % 399,00" in text  # a price given excluding VAT, as it is
    assert "Moms 0 % af 399,00 0,00" in text


def test_labels_and_numbers_follow_the_students_language(pdf: InvoicePdf) -> None:
    text = text_of(pdf.render(an_invoice(), a_school(), a_student("en")))
    for expected in ("Invoice", "VAT no. DK12345678", "2025-03-15", "Due date", "5,899.00 DKK"):
        assert expected in text, expected
    assert "Faktura" not in text


def test_an_unknown_language_falls_back_to_the_schools(pdf: InvoicePdf) -> None:
    text = text_of(pdf.render(an_invoice(), a_school(), a_student("de")))
    assert "Faktura" in text


def test_amounts_have_the_currencys_own_decimals(pdf: InvoicePdf) -> None:
    invoice = a_draft("JPY", lessons=2, price=5_000)
    invoice.issue("J-7", ISSUED, timedelta(days=14))
    text = text_of(pdf.render(invoice, a_school("JPY"), a_student("en")))
    assert "10,000 JPY" in text
    assert "10,000.00" not in text


def test_the_same_document_renders_to_the_same_bytes(pdf: InvoicePdf) -> None:
    first = pdf.render(an_invoice(), a_school(), a_student())
    assert pdf.render(an_invoice(), a_school(), a_student()) == first
    assert pdf.render(an_invoice(number="2025-1043"), a_school(), a_student()) != first


def test_a_credit_note_names_the_invoice_it_corrects(pdf: InvoicePdf) -> None:
    invoice = an_invoice()
    note = CreditNote.mirroring(
        invoice,
        id=InvoiceId("cn_1"),
        number="2025-1050",
        now=ISSUED + timedelta(days=3),
        reason="Aflyst køretime",
        amount=Money(55_000, "DKK"),
    )
    text = text_of(pdf.render(note, a_school(), a_student()))
    for expected in (
        "Kreditnota",
        "2025-1050",
        "Krediterer faktura",
        str(invoice.number),
        "Aflyst køretime",
    ):
        assert expected in text, expected
    assert "550,00 DKK" in text
    english = text_of(pdf.render(note, a_school(), a_student("en")))
    assert "Credit note" in english
    assert "Corrects invoice" in english


def test_a_draft_invoice_is_refused(pdf: InvoicePdf) -> None:
    with pytest.raises(InvalidInput, match="draft"):
        pdf.render(a_draft(), a_school(), a_student())


def test_a_long_invoice_runs_onto_more_pages_with_the_totals_at_the_end(pdf: InvoicePdf) -> None:
    invoice = Invoice(
        id=InvoiceId("inv_long"),
        school_id=SchoolId("sch_nord"),
        student_id=StudentId("stu_soren"),
        currency="DKK",
    )
    for n in range(60):
        line = InvoiceLine(
            InvoiceService.LESSON, f"Køretime {n + 1}", 1, Money(55_000, "DKK"), DANISH_VAT
        )
        invoice.add_line(line)
    invoice.issue("2025-2000", ISSUED, timedelta(days=14))
    reader = PdfReader(io.BytesIO(pdf.render(invoice, a_school(), a_student())))
    assert len(reader.pages) > 1
    assert "Køretime 60" in reader.pages[-1].extract_text()
    assert "33.000,00 DKK" in reader.pages[-1].extract_text()

"""The demo invoice, as `make run` e-mails it, carries everything a full Danish invoice needs
(momsbekendtgørelsen § 58), in Danish and in English: read back from the PDF with pypdf."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from justdriving.adapters.documents import FpdfInvoicePdf
from justdriving.adapters.memory import FakeEmailSender, FrozenClock
from justdriving.application import Application
from justdriving.config import Mailer, Settings, SmsProvider
from justdriving.container import build_container
from justdriving.domain.ids import InvoiceId
from justdriving.domain.invoices import CreditNote, Invoice
from justdriving.domain.messages import Attachment, EmailMessage
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import SchoolSettings
from justdriving.entrypoints.demo_school import DEMO_SCHOOL, ensure_demo

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen: no quiet hours
BASE = "http://127.0.0.1:8000"


_SENDERS: dict[int, FakeEmailSender] = {}


def app_email(app: Application) -> FakeEmailSender:
    """The fake sender the demo's `app` e-mails through."""
    return _SENDERS[id(app)]


def demo(language: str) -> tuple[Application, Invoice, EmailMessage]:
    """`make run`'s demo invoice, issued and e-mailed; an English school when `language` is."""
    settings = Settings(
        database_url="memory://",
        mail_mailer=Mailer.FAKE,
        sms_provider=SmsProvider.FAKE,
        public_base_url=BASE,
    )
    container = build_container(settings)
    container.clock.override(FrozenClock(NOW))
    app: Application = container.application()
    if language == "en":  # a school made before: the demo gives it what it lacks
        app.register_school(DEMO_SCHOOL, settings=SchoolSettings(language="en"))
    made = ensure_demo(app)
    app.relay_outbox()
    sender = container.email()
    assert isinstance(sender, FakeEmailSender)
    _SENDERS[id(app)] = sender
    [email] = [m for _, m, _ in sender.sent if m.attachments]
    with app.uow() as uow:
        invoice = uow.invoices.get(made.invoice_id)
    return app, invoice, email


def read(pdf: Attachment | bytes) -> tuple[str, list[str]]:
    """The PDF's text and the URIs of its links."""
    content = pdf.content if isinstance(pdf, Attachment) else pdf
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    links = [
        str(annotation.get_object()["/A"]["/URI"])
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    return text, links


REQUIRED = {
    "da": [
        "Faktura",
        "Fakturadato 10.03.2026",  # issue date
        "Fakturanummer 1",  # unique, from the school's gap-free series
        "Køreskolen Demo",  # seller's name,
        "Vestergade 1",  # address
        "8000 Aarhus C",
        "CVR-nr. 12345678",  # and CVR number
        "Jonas Madsen",  # buyer's name
        "Nørregade 12, 1. tv.",  # and address
        "Leveringsdato 10.03.2026",  # delivery date
        "Køretime (45 min) 1 400,00 25 % 400,00",  # description, quantity, price excl. VAT, rate
        "I alt ekskl. moms 400,00 DKK",
        "Moms 25 % af 400,00 100,00",  # VAT amount per rate
        "I alt inkl. moms 500,00 DKK",  # total
        "Forfaldsdato 24.03.2026",
        "Betal online:",
    ],
    "en": [
        "Invoice",
        "Invoice date 2026-03-10",
        "Invoice number 1",
        "Køreskolen Demo",
        "Vestergade 1",
        "8000 Aarhus C",
        "CVR no. 12345678",
        "Jonas Madsen",
        "Nørregade 12, 1. tv.",
        "Delivery date 2026-03-10",
        "Driving lesson (45 min) 1 400.00 25 % 400.00",
        "Total excl. VAT 400.00 DKK",
        "VAT 25 % of 400.00 100.00",
        "Total incl. VAT 500.00 DKK",
        "Due date 2026-03-24",
        "Pay online:",
    ],
}
# Words of the other language that must not appear (one date format per language too).
FOREIGN = {
    "da": ["Invoice", "VAT", "Driving", "Total", "2026-03-10", "2026-03-24"],
    "en": ["Faktura", "Moms", "Køretime", "I alt", "10.03.2026", "24.03.2026"],
}


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_demo_invoice_pdf_carries_every_field_of_a_full_danish_invoice(language: str) -> None:
    app, invoice, email = demo(language)
    [pdf] = email.attachments

    text, links = read(pdf)

    for expected in REQUIRED[language]:
        assert expected in text, expected
    for foreign in FOREIGN[language]:
        assert foreign not in text, foreign
    # This invoice's signed link (clickable on each line it wraps over).
    assert set(links) == {BASE + app.payer.link_path(invoice.id)}


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_invoice_email_has_the_pay_link_and_the_languages_date(language: str) -> None:
    app, invoice, email = demo(language)

    link = BASE + app.payer.link_path(invoice.id)
    assert link in email.text
    assert email.html is not None
    assert f'href="{link}"' in email.html
    assert ("24.03.2026" if language == "da" else "2026-03-24") in email.text


def test_a_paid_invoice_has_no_pay_link_and_a_credit_note_names_the_invoice_it_corrects() -> None:
    app, invoice, _ = demo("da")
    app.record_manual_payment(
        invoice.school_id,
        invoice.student_id,
        amount=Money(50000, "DKK"),
        method=PaymentMethod.BANK_TRANSFER,
        invoice_id=invoice.id,
    )
    with app.uow() as uow:
        paid = uow.invoices.get(invoice.id)
        school = uow.schools.get(invoice.school_id)
        student = uow.students.get(invoice.student_id)
    renderer = FpdfInvoicePdf()

    text, links = read(renderer.render(paid, school, student, pay_url=f"{BASE}/pay/x"))
    assert (links, "Betal online" in text) == ([], False)

    note = CreditNote.mirroring(paid, id=InvoiceId("crn_1"), number="2", now=NOW, reason="Aflyst")
    text, _ = read(renderer.render(note, school, student))
    for expected in ("Kreditnota", "Fakturanummer 2", "Krediterer faktura 1", "CVR-nr. 12345678"):
        assert expected in text, expected
    assert "Nørregade 12, 1. tv." in text


def test_an_overdue_reminder_carries_the_pay_link_too() -> None:
    app, invoice, _ = demo("da")
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(days=14 + 3))  # the ladder's first step: 3 days past due

    assert app.send_reminders().overdue_invoices == 1
    app.relay_outbox()

    sender = app_email(app)
    [reminder] = [m for _, m, _ in sender.sent if m.subject.startswith("Påmindelse")]
    assert BASE + app.payer.link_path(invoice.id) in reminder.text

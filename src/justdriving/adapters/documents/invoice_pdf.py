"""The InvoicePdf port on fpdf2: an A4 invoice or credit note with what a full Danish invoice
requires (momsbekendtgørelsen § 58): issue date, unique number, the seller's name, address and
CVR number, the buyer's name and address, quantity and description, delivery date, prices
excluding VAT, VAT rate and amount per rate, and the total; a pay link on an open invoice; a
credit note names the invoice it corrects. In the student's language, then the school's."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from justdriving.adapters.documents.wording import Wording, wording_for
from justdriving.domain.errors import InvalidInput
from justdriving.domain.invoices import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    vat_by_rate,
)
from justdriving.domain.people import PhoneNumber, Student
from justdriving.domain.schools import School
from justdriving.domain.tax import Amounts

_FONTS = Path(__file__).parent / "fonts"
_FAMILY = "DejaVuSans"
_GREY = (87, 96, 106)
_RULE = (208, 215, 222)
_HEADINGS = FontFace(family=_FAMILY, emphasis="BOLD", fill_color=(240, 242, 245))
_COLUMNS = (64, 14, 34, 18, 36)  # description, quantity, unit price, VAT, amount: shares
_LINK = (9, 105, 218)
_PAYABLE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)


class FpdfInvoicePdf:
    """Renders issued invoices and credit notes; a draft raises InvalidInput.

    Output is deterministic: the PDF's creation date is the document's issue date and the
    font (DejaVu Sans, shipped in the package) is the same everywhere, so one document always
    renders to the same bytes. Labels follow the student's language, then the school's.
    `pay_url` is printed, as a link, on an invoice that is open or partly paid.
    """

    def render(
        self,
        document: Invoice | CreditNote,
        school: School,
        student: Student,
        *,
        pay_url: str | None = None,
    ) -> bytes:
        issued_at, number = _issued(document)
        words = wording_for(student.language, school.settings.language)
        pdf = _blank(school, issued_at, f"{_title(document, words)} {number}", words)
        _school(pdf, school, words)
        _heading(pdf, document, number, issued_at, school, words)
        _recipient(pdf, student, words)
        _lines(pdf, document.lines, words)
        _totals(pdf, document, words)
        if isinstance(document, Invoice) and document.status in _PAYABLE and pay_url:
            _pay(pdf, document, pay_url, words)
        if school.settings.branding.footer:
            _small(pdf, school.settings.branding.footer)
        return bytes(pdf.output())


def _issued(document: Invoice | CreditNote) -> tuple[datetime, str]:
    issued_at, number = document.issued_at, document.number
    draft = isinstance(document, Invoice) and document.status is InvoiceStatus.DRAFT
    if draft or issued_at is None or number is None:
        raise InvalidInput("a draft invoice has no number yet: issue it before rendering it")
    return issued_at, number


def _title(document: Invoice | CreditNote, words: Wording) -> str:
    return words.credit_note if isinstance(document, CreditNote) else words.invoice


def _blank(school: School, issued_at: datetime, title: str, words: Wording) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(issued_at)
    pdf.set_title(title)
    pdf.set_author(school.name)
    pdf.set_creator("justdriving")
    pdf.set_lang(words.language)
    pdf.add_font(_FAMILY, "", _FONTS / "DejaVuSans.ttf")
    pdf.add_font(_FAMILY, "B", _FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    red, green, blue = _rgb(school.settings.branding.colour)
    pdf.set_fill_color(red, green, blue)
    pdf.rect(0, 0, pdf.w, 4, style="F")
    pdf.set_fill_color(255, 255, 255)
    return pdf


def _school(pdf: FPDF, school: School, words: Wording) -> None:
    pdf.set_font(_FAMILY, "B", 15)
    _line(pdf, school.name, 7)
    pdf.set_font(_FAMILY, "", 9)
    pdf.set_text_color(*_GREY)
    settings = school.settings
    cvr = settings.cvr_number
    vat_number = school.vat_number if school.vat_number not in (None, f"DK{cvr}") else None
    details = [
        *(settings.address.lines() if settings.address else ()),
        f"{words.cvr_number} {cvr}" if cvr else None,
        f"{words.vat_number} {vat_number}" if vat_number else None,
        PhoneNumber(school.contact_phone).international() if school.contact_phone else None,
        school.contact_email,
    ]
    for detail in filter(None, details):
        _line(pdf, detail, 4.5)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(8)


def _heading(
    pdf: FPDF,
    document: Invoice | CreditNote,
    number: str,
    issued_at: datetime,
    school: School,
    words: Wording,
) -> None:
    pdf.set_font(_FAMILY, "B", 20)
    _line(pdf, _title(document, words), 10)
    issued_on = _local_day(issued_at, school)
    facts = [(words.number, number), (words.issue_date, words.day(issued_on))]
    if isinstance(document, Invoice):
        facts.append((words.delivery_date, words.day(document.delivered_on or issued_on)))
        if document.due_at is not None:
            facts.append((words.due_date, words.day(_local_day(document.due_at, school))))
        if document.status is InvoiceStatus.VOID:
            facts.append((words.void, ""))
    else:
        facts.append((words.corrects, document.invoice_number or document.invoice_id))
        facts.append((words.reason, document.reason))
    for label, value in facts:
        pdf.set_font(_FAMILY, "", 10)
        pdf.cell(40, 5.5, label)
        pdf.set_font(_FAMILY, "B", 10)
        pdf.multi_cell(0, 5.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)


def _recipient(pdf: FPDF, student: Student, words: Wording) -> None:
    pdf.set_font(_FAMILY, "", 9)
    pdf.set_text_color(*_GREY)
    _line(pdf, words.to, 5)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(_FAMILY, "B", 11)
    _line(pdf, student.name, 6)
    pdf.set_font(_FAMILY, "", 10)
    for text in student.address.lines() if student.address else ():
        _line(pdf, text, 5)
    if student.email is not None:
        _line(pdf, str(student.email), 5)
    pdf.ln(7)


def _lines(pdf: FPDF, lines: list[InvoiceLine], words: Wording) -> None:
    pdf.set_font(_FAMILY, "", 10)
    pdf.set_draw_color(*_RULE)
    with pdf.table(
        col_widths=_COLUMNS,
        width=pdf.epw,
        align="LEFT",
        text_align="LEFT",
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=_HEADINGS,
        line_height=6,
        padding=1.5,
    ) as table:
        heading = table.row()
        heading.cell(words.description)
        for label in (words.quantity, words.unit_price, words.vat, words.amount):
            heading.cell(label, align="RIGHT")
        for line in lines:
            row = table.row()
            row.cell(line.description)
            unit = Amounts.of(line.unit_price, line.vat_rate, vat_inclusive=line.vat_inclusive)
            cells = (str(line.quantity), words.money(unit.net), words.rate(line.vat_rate))
            for text in (*cells, words.money(line.amounts.net)):
                row.cell(text, align="RIGHT")


def _totals(pdf: FPDF, document: Invoice | CreditNote, words: Wording) -> None:
    totals = document.totals
    rows = [(words.net, words.money(totals.net, with_currency=True), "")]
    for rate, amounts in vat_by_rate(document.lines, document.currency):
        rows.append((words.vat_line(rate, amounts.net), words.money(amounts.vat), ""))
    rows.append((words.total, words.money(totals.gross, with_currency=True), "B"))
    pdf.ln(4)
    for label, value, style in rows:
        _total_row(pdf, label, value, style)


def _total_row(pdf: FPDF, label: str, value: str, style: str) -> None:
    pdf.set_x(pdf.l_margin + pdf.epw - 110)
    pdf.set_font(_FAMILY, style, 11 if style else 10)
    pdf.cell(70, 6.5, label)
    pdf.cell(40, 6.5, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _pay(pdf: FPDF, invoice: Invoice, url: str, words: Wording) -> None:
    """What is left to pay, when part is paid, and the link that pays it."""
    if invoice.status is InvoiceStatus.PARTIALLY_PAID:
        _total_row(pdf, words.paid, words.money(invoice.net_paid, with_currency=True), "")
        _total_row(
            pdf, words.outstanding, words.money(invoice.outstanding, with_currency=True), "B"
        )
    pdf.ln(6)
    pdf.set_font(_FAMILY, "B", 10)
    pdf.cell(0, 5.5, f"{words.pay_online}:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, "", 10)
    pdf.set_text_color(*_LINK)
    pdf.multi_cell(0, 5.5, url, link=url, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _small(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(_FAMILY, "", 8)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(0, 4, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _line(pdf: FPDF, text: str, height: float) -> None:
    pdf.cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _local_day(moment: datetime, school: School) -> date:
    return school.local_time(moment).date()


def _rgb(colour: str) -> tuple[int, int, int]:
    """The school's #rrggbb (or #rgb) colour; the default blue when it is anything else."""
    digits = colour.lstrip("#") if isinstance(colour, str) else ""
    if len(digits) == 3:
        digits = "".join(2 * d for d in digits)
    try:
        value = int(digits, 16) if len(digits) == 6 else None
    except ValueError:
        value = None
    if value is None:
        return (31, 111, 235)
    return (value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF)

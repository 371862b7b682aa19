"""The demo school `justdriving run` pays in development: created once, found again on later
runs, and given on each start what a newer version seeds (account and VAT codes, so its books
sync and export at once; the CVR number and addresses a Danish invoice carries)."""

from __future__ import annotations

from typing import Final

import attrs
from attrs import frozen

from justdriving.application import Application
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.people import Student
from justdriving.domain.schools import AccountMapping, InvoiceService, School, SchoolSettings
from justdriving.domain.services.invoicing import LineItem

DEMO_SCHOOL: Final = "Køreskolen Demo"
DEMO_LESSON_PRICE: Final = "500.00"
DEMO_LESSON: Final = {"da": "Køretime (45 min)", "en": "Driving lesson (45 min)"}
# What a school sets before its books can be synced or exported: every kind of line books to
# sales (account 200) with output VAT; and the seller's details a Danish invoice carries.
DEMO_ACCOUNTS: Final = {service: AccountMapping("200", "OUTPUT") for service in InvoiceService}
DEMO_SCHOOL_ADDRESS: Final = PostalAddress("Vestergade 1", "8000", "Aarhus C")
DEMO_CVR: Final = "12345678"
DEMO_STUDENT_ADDRESS: Final = PostalAddress("Nørregade 12, 1. tv.", "8000", "Aarhus C")


@frozen
class DemoInvoice:
    school_id: str
    student_id: str
    invoice_id: str
    number: str | None
    outstanding: Money


def ensure_demo(app: Application) -> DemoInvoice:
    """The demo school's student and an open invoice: found if there, else created once."""
    school, student = _demo_people(app)
    invoice = _open_invoice(app, school, student)
    return DemoInvoice(school.id, student.id, invoice.id, invoice.number, invoice.outstanding)


def demo_settings(settings: SchoolSettings | None = None) -> SchoolSettings:
    """The demo school's settings: account and VAT codes for every line, CVR number, address."""
    return attrs.evolve(
        settings or SchoolSettings(),
        account_map={**DEMO_ACCOUNTS, **(settings.account_map if settings else {})},
        cvr_number=(settings.cvr_number if settings else None) or DEMO_CVR,
        address=(settings.address if settings else None) or DEMO_SCHOOL_ADDRESS,
    )


def _demo_people(app: Application) -> tuple[School, Student]:
    school = app.directory.school_named(DEMO_SCHOOL)
    students = app.directory.students(school.id) if school else []
    if school is not None:  # made by an earlier version: give it what it lacks
        school = _upgraded(app, school)
        students = [
            student
            if student.address
            else app.change_student(school.id, student.id, address=DEMO_STUDENT_ADDRESS)
            for student in students
        ]
    if school is None:
        school = app.register_school(
            DEMO_SCHOOL,
            contact_email="kontor@example.com",
            contact_phone="+45 70 20 30 40",
            settings=demo_settings(),
        )
        app.add_teacher(school.id, "Mette Jensen", phone="+45 21 43 65 87")
    if students:
        return school, students[0]
    student = app.add_student(
        school.id,
        "Jonas Madsen",
        phone="20 12 34 56",
        email="jonas@example.com",
        address=DEMO_STUDENT_ADDRESS,
    )
    return school, student


def _upgraded(app: Application, school: School) -> School:
    """The school with the demo's settings where it lacks them."""
    wanted = demo_settings(school.settings)
    changes = {
        field.name: getattr(wanted, field.name)
        for field in attrs.fields(SchoolSettings)
        if getattr(wanted, field.name) != getattr(school.settings, field.name)
    }
    return app.change_school(school.id, settings=changes) if changes else school


def _open_invoice(app: Application, school: School, student: Student) -> Invoice:
    payable = {InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value}
    for row in app.money.invoices(school.id, student.id, limit=200):
        if row.status in payable:
            return app.payer.invoice(row.id).invoice
    price = Money.parse(DEMO_LESSON_PRICE, school.currency)
    text = DEMO_LESSON.get(student.language, DEMO_LESSON["da"])  # the invoice's language
    line = LineItem(InvoiceService.LESSON, text, price)
    draft = app.draft_invoice(school.id, student.id, [line])
    return app.issue_invoice(school.id, draft.id)

"""Builders shared by the domain tests: a fixed clock and documents in a known state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from justdriving.domain.ids import InvoiceId, PaymentId, SchoolId, StudentId
from justdriving.domain.invoices import Invoice, InvoiceLine
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentMethod, PaymentPurpose
from justdriving.domain.schools import InvoiceService
from justdriving.domain.tax import TaxRate

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
VAT_25 = TaxRate(2500)
SCHOOL = SchoolId("sch_1")
STUDENT = StudentId("stu_1")


def dkk(text: str) -> Money:
    return Money.parse(text, "DKK")


def line(
    price: str = "500.00",
    *,
    quantity: int = 1,
    rate: TaxRate = VAT_25,
    vat_inclusive: bool = True,
    service: InvoiceService = InvoiceService.LESSON,
    currency: str = "DKK",
) -> InvoiceLine:
    return InvoiceLine(
        service=service,
        description=f"{service.value} x{quantity}",
        quantity=quantity,
        unit_price=Money.parse(price, currency),
        vat_rate=rate,
        vat_inclusive=vat_inclusive,
    )


def draft_invoice(*lines: InvoiceLine, id: str = "inv_1", currency: str = "DKK") -> Invoice:
    invoice = Invoice(id=InvoiceId(id), school_id=SCHOOL, student_id=STUDENT, currency=currency)
    for each in lines:
        invoice.add_line(each)
    return invoice


def issued_invoice(*lines: InvoiceLine, id: str = "inv_1", number: str = "1") -> Invoice:
    invoice = draft_invoice(*(lines or (line(),)), id=id)
    invoice.issue(number, NOW, timedelta(days=14))
    return invoice


def online_payment(amount: Money, *, id: str = "pay_1", provider: str = "stripe") -> Payment:
    return Payment(
        id=PaymentId(id),
        school_id=SCHOOL,
        student_id=STUDENT,
        amount=amount,
        method=PaymentMethod.ONLINE,
        purpose=PaymentPurpose.INVOICE,
        created_at=NOW,
        provider=provider,
    )


def cash_payment(amount: Money, *, id: str = "pay_1") -> Payment:
    payment = Payment(
        id=PaymentId(id),
        school_id=SCHOOL,
        student_id=STUDENT,
        amount=amount,
        method=PaymentMethod.CASH,
        purpose=PaymentPurpose.INVOICE,
        created_at=NOW,
    )
    return payment


def captured_payment(amount: Money, *, id: str = "pay_1") -> Payment:
    payment = cash_payment(amount, id=id)
    payment.record_manual(NOW)
    return payment

"""One school's money as a newcomer meets it: "is invoice 3 paid, by what, and what does
Jonas owe?". Jonas Madsen has invoice 1 (500.00, overdue, a card payment declined) and
invoice 3 (750.00, paid with MobilePay); Ida Holm has invoice 2 (300.00, open)."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import frozen

from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.domain.ids import PaymentId, StudentId, new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentMethod, PaymentPurpose, PaymentStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem

DECLINE = "card_declined: insufficient funds (contact jonas.madsen@example.dk)"


@frozen
class MoneyScenario:
    school_id: str
    jonas: str
    ida: str
    invoice_1: str
    invoice_2: str
    invoice_3: str
    mobilepay: str
    declined: str


def a_lesson(price: str) -> list[LineItem]:
    return [LineItem(InvoiceService.LESSON, "Køretime", Money.parse(price, "DKK"))]


def seed_money(app: Application, clock: FrozenClock) -> MoneyScenario:
    """Issued a month before `clock`'s time (invoice 1 is overdue by then), then paid."""
    now = clock.now()
    clock.set(now - timedelta(days=30))
    school = app.register_school("Køreskolen Øst")
    jonas = app.add_student(school.id, "Jonas Madsen", phone="20 12 34 56")
    ida = app.add_student(school.id, "Ida Holm", email="ida@example.dk")
    issued = []
    for student, price in ((jonas, "500.00"), (ida, "300.00"), (jonas, "750.00")):
        draft = app.draft_invoice(school.id, student.id, a_lesson(price))
        issued.append(app.issue_invoice(school.id, draft.id))
        clock.advance(timedelta(minutes=1))
    clock.set(now - timedelta(days=2))
    paid = app.record_manual_payment(
        school.id,
        jonas.id,
        amount=Money.parse("750.00", "DKK"),
        method=PaymentMethod.MOBILEPAY,
        invoice_id=issued[2].id,
        reference="MP-1234",
    )
    clock.advance(timedelta(hours=1))
    declined = _declined_card_payment(app, school.id, jonas.id, issued[0].id, clock.now())
    clock.set(now)
    return MoneyScenario(school.id, jonas.id, ida.id, *(i.id for i in issued), paid.id, declined)


def _declined_card_payment(
    app: Application, school_id: str, student_id: str, invoice_id: str, at: datetime
) -> str:
    """A card payment the provider declined, as its webhook leaves it."""
    payment = Payment(
        id=PaymentId(new_id("pay")),
        school_id=school_id,  # type: ignore[arg-type]
        student_id=StudentId(student_id),
        amount=Money.parse("500.00", "DKK"),
        method=PaymentMethod.ONLINE,
        purpose=PaymentPurpose.INVOICE,
        created_at=at,
        invoice_id=invoice_id,  # type: ignore[arg-type]
        provider="fake",
        provider_payment_id=f"pi_{new_id('x')}",
        status=PaymentStatus.FAILED,
        status_at=at,
        failure_reason=DECLINE,
    )
    with app.uow() as uow:
        uow.payments.add(payment)
        uow.commit()
    return payment.id

"""The capability facades: a school's day done through `app.bookings`, `app.invoices`,
`app.payments`, `app.refunds`, `app.messages` and `app.ops` alone, each verb the very use case
the Application's flat name is, and no use case left off a facade."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest

from justdriving import Application, InvalidInput, LineItem, Money, PaymentMethod
from justdriving.adapters.memory import FakeSmsSender, FrozenClock, MemoryStore
from justdriving.domain.schools import InvoiceService
from justdriving.facades import Accounting, Bookings, Invoices, Messages, Ops, Payments, Refunds
from memory_app import memory_application

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
FACADES = ("bookings", "invoices", "payments", "refunds", "messages", "accounting", "ops")
# What is not a capability's verb: wiring, the reads behind the views, the one road in (itself
# the `webhooks` facade) and the school's set-up, which comes before any capability.
NOT_ON_A_FACADE = frozenset(
    {
        "uow",
        "clock",
        "redact",
        "relay",
        "subscribe",
        "webhooks",
        "money",
        "payer",
        "directory",
        "operations",
        "register_school",
        "add_teacher",
        "add_student",
        "add_booking_type",
        "change_school",
        "change_student",
        "receive_webhook",
        "receive_payment_webhook",
        "store_payment_webhook",
        "apply_inbox_event",
    }
)


def dkk(text: str) -> Money:
    return Money.parse(text, "DKK")


@pytest.fixture
def sms() -> FakeSmsSender:
    return FakeSmsSender()


@pytest.fixture
def app(sms: FakeSmsSender) -> Application:
    return memory_application(FrozenClock(NOW), store=MemoryStore(), sms=sms)


def test_a_lesson_is_booked_invoiced_paid_and_refunded_through_the_facades(
    app: Application, sms: FakeSmsSender
) -> None:
    school = app.register_school("Køreskolen Vest", currency="DKK", phone_region="DK")
    teacher = app.add_teacher(school.id, "Lars Lærer")
    student = app.add_student(school.id, "Anna Andersen", phone="20 12 34 56")
    lesson = app.add_booking_type(
        school.id, "Køretime", duration=timedelta(minutes=45), price=dkk("500.00")
    )

    booking = app.bookings.book(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=NOW + timedelta(days=3),
    )
    draft = app.invoices.draft(
        school.id, student.id, [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))]
    )
    invoice = app.invoices.issue(school.id, draft.id)
    payment = app.payments.record_manual(
        school.id,
        student.id,
        amount=dkk("500.00"),
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
    )
    assert app.invoices.balance(school.id, student.id).amount == dkk("0.00")

    refund = app.refunds.refund(
        school.id, payment.id, amount=dkk("200.00"), reason="lesson shortened"
    )
    app.ops.relay_outbox()

    assert (refund.amount, refund.status.value) == (dkk("200.00"), "succeeded")
    balance = app.invoices.balance(school.id, student.id)
    assert (balance.credited, balance.refunded, balance.amount) == (
        dkk("200.00"),
        dkk("200.00"),
        dkk("0.00"),
    )
    assert booking.status.value == "confirmed"
    assert sms.sent, "the confirmation and the refund went out through the relay"


def test_a_facade_checks_its_arguments_as_the_application_does(app: Application) -> None:
    school = app.register_school("Køreskolen Syd", currency="DKK", phone_region="DK")

    with pytest.raises(InvalidInput):
        app.refunds.refund(school.id, "pay_unknown", reason="  ")


@pytest.mark.parametrize("facade", FACADES)
def test_each_verb_of_a_facade_is_the_applications_own_use_case(
    app: Application, facade: str
) -> None:
    capability = getattr(app, facade)
    flat = {id(value): name for name, value in vars(app).items() if not name.startswith("_")}
    verbs = {name: value for name, value in vars(capability).items() if callable(value)}

    assert verbs, f"app.{facade} names no verb"
    for name, verb in verbs.items():
        assert id(verb) in flat, f"app.{facade}.{name} is not one of the Application's use cases"


def test_every_use_case_of_the_application_is_on_a_facade(app: Application) -> None:
    on_facades = {id(v) for f in FACADES for v in vars(getattr(app, f)).values() if callable(v)}
    use_cases = {
        name
        for name, value in vars(app).items()
        if not name.startswith("_")
        and name not in NOT_ON_A_FACADE
        and name not in FACADES
        and callable(value)
        and not inspect.isclass(value)
    }

    left_off = sorted(name for name in use_cases if id(getattr(app, name)) not in on_facades)
    assert left_off == []


def test_the_facades_are_the_documented_types(app: Application) -> None:
    assert isinstance(app.bookings, Bookings)
    assert isinstance(app.invoices, Invoices)
    assert isinstance(app.payments, Payments)
    assert isinstance(app.refunds, Refunds)
    assert isinstance(app.messages, Messages)
    assert isinstance(app.accounting, Accounting)
    assert isinstance(app.ops, Ops)

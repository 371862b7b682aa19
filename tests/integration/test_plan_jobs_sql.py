"""The worker's card-on-file jobs over SQLite and PostgreSQL (the fake gateway as provider):
a deposit held for a far-off lesson charged to the saved card when the hold would lapse, and
a card that expires before a plan's next charge noticed once, each surviving a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integration_support import NOW, build_world, dkk

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.deposits import HOLD_WINDOW, DepositStatus
from justdriving.domain.payments import CaptureMode, PaymentStatus
from justdriving.domain.schools import MessageType
from memory_app import memory_application


def platform(uow: SqlUnitOfWorkFactory) -> tuple[FrozenClock, FakePaymentGateway, Application]:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", clock=clock)
    return clock, gateway, memory_application(clock, uow=uow, gateway=gateway)


def save_card(app: Application, gateway: FakePaymentGateway, school: str, student: str) -> None:
    setup = app.start_saving_card(school, student)
    body, headers = gateway.complete_setup(setup.session.provider_setup_id)
    app.receive_payment_webhook("fake", body, headers)


def test_a_lapsing_deposit_hold_is_charged_to_the_saved_card_once(
    uow: SqlUnitOfWorkFactory,
) -> None:
    clock, gateway, app = platform(uow)
    world = build_world(app)
    school, student = world.school.id, world.student.id
    app.change_school(
        school, settings={"deposit_required": True, "charge_deposit_at_hold_lapse": True}
    )
    save_card(app, gateway, school, student)
    booking = app.book_lesson(
        school,
        teacher_id=world.teacher.id,
        student_ids=[student],
        booking_type_id=world.lesson.id,
        start=NOW + timedelta(days=20),
    )
    started = app.start_deposit(school, booking.id)
    assert started.payment.capture_mode is CaptureMode.MANUAL
    body, headers = gateway.authorize(started.session.provider_payment_id)
    app.receive_payment_webhook("fake", body, headers)

    clock.advance(HOLD_WINDOW)
    assert app.charge_lapsing_deposits() == 1
    app = memory_application(clock, uow=uow, gateway=gateway)  # restarted
    assert app.charge_lapsing_deposits() == 0
    app.relay_outbox()

    with uow() as u:
        deposit = u.deposits.for_booking(booking.id)
        assert deposit is not None
        charge = u.payments.get(deposit.payment_id)
        hold = u.payments.get(started.payment.id)
    assert deposit.status is DepositStatus.SECURED
    assert (charge.status, charge.amount) == (PaymentStatus.SUCCEEDED, dkk("100.00"))
    assert gateway.charges[hold.provider_payment_id or ""].status is PaymentStatus.CANCELED


def test_a_card_expiring_before_the_next_charge_is_noticed_once(
    uow: SqlUnitOfWorkFactory,
) -> None:
    clock, gateway, app = platform(uow)
    world = build_world(app)
    school, student = world.school.id, world.student.id
    save_card(app, gateway, school, student)  # the fake's cards expire in December 2034
    clock.set(datetime(2034, 11, 20, 9, 0, tzinfo=UTC))
    app.start_recurring_fee(
        school,
        student,
        amount=dkk("99.00"),
        description="Teori-app",
        starts_at=datetime(2035, 1, 2, 9, 0, tzinfo=UTC),
    )

    assert app.notice_expiring_cards() == 1
    app = memory_application(clock, uow=uow, gateway=gateway)  # restarted
    assert app.notice_expiring_cards() == 0

    with uow() as u:
        told = [m for m in u.messages.for_school(school) if m.type is MessageType.CARD_EXPIRING]
    assert {str(m.channel) for m in told} == {"sms", "email"}
    assert {m.context["last4"] for m in told} == {"4242"}

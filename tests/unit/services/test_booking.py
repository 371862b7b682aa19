"""Booking a lesson: confirmation and messages, the teacher's calendar, school rules, deposits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
)
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus, CancelledBy
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.errors import BookingNotAllowed, TeacherDoubleBooked
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.payments import CaptureMode, PaymentStatus
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem

from .support import (
    World,
    build_world,
    deliver,
    dkk,
    hours_from_now,
    messages,
    outbox,
    provider_ref,
    record,
    with_settings,
)


class TestBookLesson:
    def test_a_lesson_is_confirmed_at_once_when_no_deposit_is_required(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, hours_from_now(clock, 48))

        assert booking.status is BookingStatus.CONFIRMED
        assert record(store, "bookings", booking.id).status is BookingStatus.CONFIRMED
        assert booking.price == dkk("500.00")
        assert booking.slot.duration == timedelta(minutes=45)

    def test_the_confirmation_is_queued_by_sms_and_email_and_not_sent_inline(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
        email: FakeEmailSender,
    ) -> None:
        world.book(app, hours_from_now(clock, 48))

        queued = messages(store, MessageType.BOOKING_CONFIRMATION)
        assert sorted(m.channel for m in queued) == [Channel.EMAIL, Channel.SMS]
        assert all(m.status is MessageStatus.QUEUED for m in queued)
        rows = outbox(store)
        assert sorted(r.kind for r in rows) == [OutboxKind.SEND_EMAIL, OutboxKind.SEND_SMS]
        assert {r.payload["message_id"] for r in rows} == {m.id for m in queued}
        assert sms.sent == []
        assert email.sent == []

    def test_the_relay_sends_the_confirmation_to_the_students_phone_and_email(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
        email: FakeEmailSender,
    ) -> None:
        world.book(app, clock.now().replace(hour=13) + timedelta(days=2))

        report = app.relay_outbox()

        assert report.sent == 2
        [(to, text, _)] = sms.sent
        assert to == PhoneNumber("+4520123456")
        assert "Lars Lærer" in text.body
        assert "2025-03-05 14:00" in text.body  # Copenhagen time, not UTC
        [(address, mail, _)] = email.sent
        assert str(address) == "anna@example.dk"
        assert mail.subject == "Din køretime er booket"
        assert all(m.status is MessageStatus.SENT for m in messages(store))
        assert all(r.status is OutboxStatus.SENT for r in outbox(store))

    def test_a_student_who_reads_english_is_written_to_in_english(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        email: FakeEmailSender,
    ) -> None:
        student = app.add_student(world.school.id, "Emma", email="emma@example.com", language="en")
        world.book(app, hours_from_now(clock, 48), student=student)

        app.relay_outbox()

        [(_, mail, _)] = email.sent
        assert mail.subject == "Your lesson is booked"
        assert mail.text.startswith("Hi Emma,")

    def test_the_teacher_cannot_be_booked_twice_at_the_same_time(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        start = hours_from_now(clock, 48)
        world.book(app, start)
        other = world.add_student(app)

        with pytest.raises(TeacherDoubleBooked):
            world.book(app, start + timedelta(minutes=30), student=other)
        assert store.count("bookings") == 1

    def test_back_to_back_lessons_are_allowed(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        start = hours_from_now(clock, 48)
        first = world.book(app, start)

        second = world.book(app, first.slot.end)
        earlier = world.book(app, start - timedelta(minutes=45))

        assert second.status is earlier.status is BookingStatus.CONFIRMED

    def test_a_cancelled_booking_frees_the_teachers_slot(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        start = hours_from_now(clock, 48)
        first = world.book(app, start)
        app.cancel_booking(world.school.id, first.id, by=CancelledBy.TEACHER)

        again = world.book(app, start)

        assert again.status is BookingStatus.CONFIRMED

    def test_another_teacher_can_take_the_same_slot(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        start = hours_from_now(clock, 48)
        world.book(app, start)
        colleague = app.add_teacher(world.school.id, "Mette")

        assert world.book(app, start, teacher=colleague).status is BookingStatus.CONFIRMED

    def test_a_lesson_inside_the_lead_time_is_refused(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        with pytest.raises(BookingNotAllowed):
            world.book(app, hours_from_now(clock, 1.5))
        assert world.book(app, hours_from_now(clock, 2)).status is BookingStatus.CONFIRMED
        assert store.count("bookings") == 1

    def test_a_lesson_beyond_the_booking_horizon_is_refused(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        with pytest.raises(BookingNotAllowed):
            world.book(app, clock.now() + timedelta(days=90, minutes=1))
        assert world.book(app, clock.now() + timedelta(days=90)).status is BookingStatus.CONFIRMED
        assert store.count("bookings") == 1

    def test_an_overdue_invoice_blocks_booking_when_the_school_says_so(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        strict = build_world(app, "Streng Skole", with_settings(block_booking_when_overdue=True))
        _issue_invoice(app, strict)
        clock.advance(timedelta(days=15))

        with pytest.raises(BookingNotAllowed, match="overdue"):
            strict.book(app, hours_from_now(clock, 48))
        assert store.count("bookings") == 0

    def test_an_invoice_not_yet_due_does_not_block_booking(
        self, app: Application, clock: FrozenClock
    ) -> None:
        strict = build_world(app, "Streng Skole", with_settings(block_booking_when_overdue=True))
        _issue_invoice(app, strict)
        clock.advance(timedelta(days=13))

        assert strict.book(app, hours_from_now(clock, 48)).status is BookingStatus.CONFIRMED

    def test_an_overdue_invoice_does_not_block_booking_by_default(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        _issue_invoice(app, world)
        clock.advance(timedelta(days=30))

        assert world.book(app, hours_from_now(clock, 48)).status is BookingStatus.CONFIRMED


def _issue_invoice(app: Application, world: World) -> None:
    draft = app.draft_invoice(
        world.school.id,
        world.student.id,
        [LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("250.00"))],
    )
    assert app.issue_invoice(world.school.id, draft.id).status is InvoiceStatus.OPEN


@pytest.fixture
def deposit_world(app: Application) -> World:
    return build_world(app, "Depositum Skole", with_settings(deposit_required=True))


class TestBookWithDeposit:
    def test_the_booking_waits_for_the_deposit(
        self, app: Application, deposit_world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = deposit_world.book(app, hours_from_now(clock, 72))

        assert booking.status is BookingStatus.PENDING
        assert messages(store, MessageType.BOOKING_CONFIRMATION) == []

    def test_a_pending_booking_still_holds_the_teachers_slot(
        self, app: Application, deposit_world: World, clock: FrozenClock
    ) -> None:
        start = hours_from_now(clock, 72)
        deposit_world.book(app, start)

        with pytest.raises(TeacherDoubleBooked):
            deposit_world.book(app, start, student=deposit_world.add_student(app))

    def test_a_card_hold_for_a_near_lesson_confirms_the_booking(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = deposit_world.book(app, hours_from_now(clock, 72))
        started = app.start_deposit(deposit_world.school.id, booking.id)
        assert started.session.client_secret
        assert started.payment.capture_mode is CaptureMode.MANUAL
        assert started.payment.amount == dkk("100.00")

        deliver(app, gateway.authorize(started.session.provider_payment_id))

        assert record(store, "bookings", booking.id).status is BookingStatus.CONFIRMED
        assert record(store, "payments", started.payment.id).status is PaymentStatus.AUTHORIZED
        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.SECURED
        assert len(messages(store, MessageType.BOOKING_CONFIRMATION)) == 2

    def test_a_lesson_more_than_six_days_ahead_is_charged_not_held(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(days=10))
        started = app.start_deposit(deposit_world.school.id, booking.id)
        assert started.payment.capture_mode is CaptureMode.AUTOMATIC

        deliver(app, gateway.succeed(provider_ref(gateway, started.payment.id)))

        assert record(store, "bookings", booking.id).status is BookingStatus.CONFIRMED
        assert record(store, "payments", started.payment.id).captured == dkk("100.00")
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2

    def test_a_failed_deposit_payment_leaves_the_booking_pending(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = deposit_world.book(app, hours_from_now(clock, 72))
        started = app.start_deposit(deposit_world.school.id, booking.id)

        deliver(app, gateway.fail(started.session.provider_payment_id))

        assert record(store, "bookings", booking.id).status is BookingStatus.PENDING
        assert messages(store, MessageType.BOOKING_CONFIRMATION) == []

    def test_staff_can_confirm_a_pending_booking_without_a_deposit(
        self, app: Application, deposit_world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = deposit_world.book(app, hours_from_now(clock, 72))

        confirmed = app.confirm_booking(deposit_world.school.id, booking.id)

        assert confirmed.status is BookingStatus.CONFIRMED
        assert len(messages(store, MessageType.BOOKING_CONFIRMATION)) == 2

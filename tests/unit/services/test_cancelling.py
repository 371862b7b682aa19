"""Cancelling a booking: the policy's fee tiers, who cancels, deposits and package credits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import Booking, BookingStatus, CancelledBy
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.errors import InvalidTransition
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, MessageType

from .support import (
    World,
    build_world,
    deliver,
    dkk,
    messages,
    outbox,
    paid_package,
    provider_ref,
    record,
    snapshot,
    with_settings,
)


def _booked(app: Application, world: World, clock: FrozenClock, hours_ahead: float) -> Booking:
    return world.book(app, clock.now() + timedelta(hours=hours_ahead))


def _until(clock: FrozenClock, booking: Booking, hours_before: float) -> datetime:
    return clock.set(booking.slot.start - timedelta(hours=hours_before))


class TestStudentCancels:
    def test_well_ahead_of_the_free_window_it_costs_nothing(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 24)

        outcome = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        assert outcome.booking.status is BookingStatus.CANCELLED
        assert not outcome.fee
        assert outcome.invoices == ()
        assert store.count("invoices") == 0
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_inside_24_hours_half_the_price_is_invoiced(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 23)

        outcome = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        assert outcome.fee == dkk("250.00")
        [invoice] = outcome.invoices
        stored = record(store, "invoices", invoice.id)
        assert stored.status is InvoiceStatus.OPEN
        assert stored.number == "1"
        assert stored.booking_id == booking.id
        assert [line.service for line in stored.lines] == [InvoiceService.CANCELLATION_FEE]
        assert stored.totals.gross == dkk("250.00")
        assert stored.totals.vat == dkk("50.00")
        assert app.balance(world.school.id, world.student.id).amount == dkk("250.00")
        assert len(messages(store, MessageType.INVOICE_ISSUED)) == 2

    def test_inside_2_hours_the_full_price_is_invoiced(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 1)

        outcome = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        assert outcome.fee == dkk("500.00")
        assert [i.totals.gross for i in outcome.invoices] == [dkk("500.00")]
        assert app.balance(world.school.id, world.student.id).amount == dkk("500.00")

    def test_the_student_is_told_of_the_cancellation_and_the_fee(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 23)

        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        told = messages(store, MessageType.CANCELLATION)
        assert len(told) == 2
        assert {m.context["fee"] for m in told} == {"250,00 kr."}

    def test_fee_invoices_take_consecutive_numbers(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        first = _booked(app, world, clock, 72)
        second = world.book(app, first.slot.end)
        _until(clock, first, 1)

        numbers = [
            app.cancel_booking(world.school.id, b.id, by=CancelledBy.STUDENT).invoices[0].number
            for b in (first, second)
        ]

        assert numbers == ["1", "2"]

    def test_a_booking_cannot_be_cancelled_twice(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 1)
        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)
        assert snapshot(store) == before


class TestTeacherOrSchoolCancels:
    @pytest.mark.parametrize("by", [CancelledBy.TEACHER, CancelledBy.SCHOOL])
    def test_it_costs_the_student_nothing_even_at_the_last_minute(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        by: CancelledBy,
    ) -> None:
        booking = _booked(app, world, clock, 72)
        _until(clock, booking, 0.5)

        outcome = app.cancel_booking(world.school.id, booking.id, by=by)

        assert outcome.booking.cancelled_by is by
        assert outcome.invoices == ()
        assert store.count("invoices") == 0
        assert len(messages(store, MessageType.CANCELLATION)) == 2


@pytest.fixture
def deposit_world(app: Application) -> World:
    return build_world(app, "Depositum Skole", with_settings(deposit_required=True))


def _charged_deposit(
    app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway
) -> tuple[Booking, str]:
    """A lesson ten days ahead whose deposit was charged (too far ahead for a card hold)."""
    booking = world.book(app, clock.now() + timedelta(days=10))
    started = app.start_deposit(world.school.id, booking.id)
    deliver(app, gateway.succeed(started.session.provider_payment_id))
    return booking, started.payment.id


def _held_deposit(
    app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway
) -> tuple[Booking, str]:
    """A lesson three days ahead whose deposit is a card hold."""
    booking = world.book(app, clock.now() + timedelta(days=3))
    started = app.start_deposit(world.school.id, booking.id)
    deliver(app, gateway.authorize(started.session.provider_payment_id))
    return booking, started.payment.id


class TestCancellingWithADeposit:
    def test_a_charged_deposit_is_counted_against_the_fee_invoice(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _charged_deposit(app, deposit_world, clock, gateway)
        _until(clock, booking, 12)

        outcome = app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.STUDENT)

        invoice = record(store, "invoices", outcome.invoices[0].id)
        assert invoice.status is InvoiceStatus.PARTIALLY_PAID
        assert invoice.paid == dkk("100.00")
        assert invoice.outstanding == dkk("150.00")
        assert record(store, "payments", payment_id).invoice_id == invoice.id
        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.SETTLED
        assert outbox(store, OutboxKind.REFUND_PAYMENT) == []
        balance = app.balance(deposit_world.school.id, deposit_world.student.id)
        assert balance.amount == dkk("150.00")

    def test_a_held_deposit_is_captured_through_the_outbox(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _held_deposit(app, deposit_world, clock, gateway)
        _until(clock, booking, 1)

        outcome = app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.STUDENT)

        [row] = outbox(store, OutboxKind.CAPTURE_PAYMENT)
        assert row.payload == {"payment_id": payment_id}
        assert ("capture", row.idempotency_key) not in gateway.calls
        app.relay_outbox()
        assert ("capture", row.idempotency_key) in gateway.calls
        ref = provider_ref(gateway, payment_id)
        assert gateway.charges[ref].captured == dkk("100.00")

        deliver(app, gateway.succeed(ref))

        invoice = record(store, "invoices", outcome.invoices[0].id)
        assert invoice.paid == dkk("100.00")
        assert invoice.outstanding == dkk("400.00")
        balance = app.balance(deposit_world.school.id, deposit_world.student.id)
        assert balance.amount == dkk("400.00")

    def test_a_free_cancellation_refunds_a_charged_deposit(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _charged_deposit(app, deposit_world, clock, gateway)

        app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.STUDENT)

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.RETURNED
        [row] = outbox(store, OutboxKind.REFUND_PAYMENT)
        [refund] = store.records("refunds")
        assert row.idempotency_key == refund.id
        assert (refund.payment_id, refund.amount) == (payment_id, dkk("100.00"))
        assert refund.status is RefundStatus.PENDING
        assert gateway.refunds == {}

        app.relay_outbox()

        [returned] = gateway.refunds.values()
        assert returned.amount == dkk("100.00")
        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED
        balance = app.balance(deposit_world.school.id, deposit_world.student.id)
        assert balance.amount == dkk("0.00")

    def test_a_teachers_cancellation_releases_a_held_deposit(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _held_deposit(app, deposit_world, clock, gateway)
        _until(clock, booking, 1)

        app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.TEACHER)

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.RETURNED
        [row] = outbox(store, OutboxKind.CANCEL_PAYMENT)
        assert store.count("invoices") == 0
        app.relay_outbox()
        assert ("cancel", row.idempotency_key) in gateway.calls
        assert gateway.charges[provider_ref(gateway, payment_id)].status is PaymentStatus.CANCELED

    def test_a_deposit_paid_after_its_booking_was_cancelled_is_given_back(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(days=10))
        started = app.start_deposit(deposit_world.school.id, booking.id)
        app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.STUDENT)

        # The payer finished the checkout anyway; the provider's webhook arrives afterwards.
        deliver(app, gateway.succeed(started.session.provider_payment_id))

        assert record(store, "bookings", booking.id).status is BookingStatus.CANCELLED
        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.RETURNED
        [refund] = store.records("refunds")
        assert refund.amount == dkk("100.00")

    def test_a_deposit_already_partly_refunded_does_not_block_a_free_cancellation(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _charged_deposit(app, deposit_world, clock, gateway)
        app.refund(deposit_world.school.id, payment_id, amount=dkk("40.00"), reason="goodwill")

        outcome = app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.TEACHER)

        assert outcome.booking.status is BookingStatus.CANCELLED
        assert record(store, "bookings", booking.id).status is BookingStatus.CANCELLED
        refunds = sorted(r.amount.amount for r in store.records("refunds"))
        assert refunds == [dkk("40.00").amount, dkk("60.00").amount]

    def test_a_deposit_refunded_in_full_does_not_block_a_late_cancellation(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking, payment_id = _charged_deposit(app, deposit_world, clock, gateway)
        app.refund(deposit_world.school.id, payment_id, reason="goodwill")
        app.relay_outbox()
        _until(clock, booking, 12)

        outcome = app.cancel_booking(deposit_world.school.id, booking.id, by=CancelledBy.STUDENT)

        assert record(store, "bookings", booking.id).status is BookingStatus.CANCELLED
        [invoice] = outcome.invoices
        assert record(store, "invoices", invoice.id).outstanding == dkk("250.00")
        balance = app.balance(deposit_world.school.id, deposit_world.student.id)
        assert balance.amount == dkk("250.00")


class TestCancellingAPackageLesson:
    def test_a_free_cancellation_gives_the_credit_back(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        booking = world.book(app, clock.now() + timedelta(days=3), package_id=package_id)
        assert record(store, "packages", package_id).credits_left == 1

        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        assert record(store, "packages", package_id).credits_left == 2

    def test_a_teachers_late_cancellation_gives_the_credit_back(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        booking = world.book(app, clock.now() + timedelta(days=3), package_id=package_id)
        _until(clock, booking, 1)

        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.TEACHER)

        assert record(store, "packages", package_id).credits_left == 2

    def test_a_late_cancellation_costs_the_credit_or_the_fee_never_both(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        booking = world.book(app, clock.now() + timedelta(days=3), package_id=package_id)
        _until(clock, booking, 1)

        outcome = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

        credit_returned = record(store, "packages", package_id).credits_left == 2
        assert credit_returned or outcome.invoices == ()
        assert credit_returned != (outcome.invoices == ())


class TestTheFeeLineSpeaksTheInvoicesLanguage:
    """A fee's line is written in the language of its student's invoice, and carries the day
    of the lesson as that language writes it; a cancellation is delivered when it is made."""

    def test_a_danish_student_gets_a_danish_line(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = _booked(app, world, clock, 30)
        _until(clock, booking, 10)

        [invoice] = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT).invoices

        assert [line.description for line in invoice.lines] == ["Sen afbestilling: Køretime"]
        assert record(store, "invoices", invoice.id).delivered_on is None

    def test_an_english_students_no_show_is_written_in_english_with_the_lessons_day(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        english = app.add_student(
            world.school.id, "Sam Smith", email="sam@example.com", language="en"
        )
        booking = world.book(app, clock.now() + timedelta(hours=30), student=english)
        clock.set(booking.slot.end + timedelta(hours=1))

        [invoice] = app.mark_no_show(world.school.id, booking.id).invoices

        local = world.school.local_time(booking.slot.start)
        [line] = invoice.lines
        assert line.description == f"No-show: Køretime {local:%Y-%m-%d %H:%M}"
        assert record(store, "invoices", invoice.id).delivered_on == local.date()

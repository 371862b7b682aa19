"""Reminders and the relay's safety nets: decided once from the database, retried with care."""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.memory import FakeSmsSender, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.messages import Channel
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem

from .support import (
    World,
    build_world,
    dkk,
    hours_from_now,
    messages,
    outbox,
    with_settings,
)


class TestLessonReminders:
    def test_the_sms_reminder_is_decided_24_hours_before_and_only_once(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world.book(app, hours_from_now(clock, 30))  # inside the email's 72 h already

        assert app.send_reminders().lessons == 1  # the email
        assert messages(store, MessageType.REMINDER, Channel.SMS) == []
        clock.advance(timedelta(hours=6, minutes=1))
        first = app.send_reminders()
        again = app.send_reminders()

        assert first.lessons == 1
        assert again.lessons == 0
        assert len(messages(store, MessageType.REMINDER, Channel.SMS)) == 1
        assert len(messages(store, MessageType.REMINDER, Channel.EMAIL)) == 1

    def test_the_email_reminder_goes_three_days_before(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world.book(app, hours_from_now(clock, 80))
        clock.advance(timedelta(hours=9))

        app.send_reminders()

        assert [m.channel for m in messages(store, MessageType.REMINDER)] == [Channel.EMAIL]

    def test_a_cancelled_lesson_gets_no_reminder(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        from justdriving.domain.bookings import CancelledBy

        booking = world.book(app, hours_from_now(clock, 30))
        app.cancel_booking(world.school.id, booking.id, by=CancelledBy.TEACHER)
        clock.advance(timedelta(hours=10))

        assert app.send_reminders().lessons == 0
        assert messages(store, MessageType.REMINDER) == []

    def test_each_school_reminds_by_its_own_lead_and_a_lead_of_zero_sends_none(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        early = build_world(app, "Køreskolen Vest", with_settings(sms_reminder_hours_before=48))
        silent = build_world(app, "Køreskolen Nord", with_settings(sms_reminder_hours_before=0))
        for school in (world, early, silent):
            school.book(app, hours_from_now(clock, 40))

        app.send_reminders()
        clock.advance(timedelta(hours=39))
        app.send_reminders()

        sms = messages(store, MessageType.REMINDER, Channel.SMS)
        assert sorted(m.school_id for m in sms) == sorted([world.school.id, early.school.id])
        assert len(messages(store, MessageType.REMINDER, Channel.EMAIL)) == 3

    def test_a_lead_beyond_two_weeks_reminds_two_weeks_ahead(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app, settings=with_settings(email_reminder_hours_before=24 * 30))
        world.book(app, hours_from_now(clock, 24 * 20))

        assert app.send_reminders().lessons == 0
        clock.advance(timedelta(days=6, minutes=1))
        assert app.send_reminders().lessons == 1
        assert [m.channel for m in messages(store, MessageType.REMINDER)] == [Channel.EMAIL]


class TestOverdueReminders:
    def test_an_overdue_invoice_climbs_the_default_ladder_until_paid(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        """Due in 14 days; reminded friendly at 3 days past due, firmly at 10, not after the
        payment (the ladder itself: tests/unit/services/test_dunning.py)."""
        invoice = app.draft_invoice(
            world.school.id,
            world.student.id,
            [LineItem(InvoiceService.MATERIALS, "Theory book", dkk("300.00"))],
        )
        app.issue_invoice(world.school.id, invoice.id)
        clock.advance(timedelta(days=14 + 2))
        assert app.send_reminders().overdue_invoices == 0
        clock.advance(timedelta(days=1))

        assert app.send_reminders().overdue_invoices == 1
        assert app.send_reminders().overdue_invoices == 0
        clock.advance(timedelta(days=7))
        assert app.send_reminders().overdue_invoices == 1

        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("300.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )
        clock.advance(timedelta(days=11))
        assert app.send_reminders().overdue_invoices == 0
        sent = messages(store, MessageType.OVERDUE_REMINDER, Channel.SMS)
        assert [m.context["tone"] for m in sent] == ["friendly", "firm"]


class TestRelaySafetyNets:
    def test_after_repeated_outages_the_circuit_opens_and_rows_wait_without_spending_attempts(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        for hours in (30, 32, 34, 36, 38, 40, 42):
            world.book(app, hours_from_now(clock, hours))
        for _ in range(5):
            sms.fail_next(ProviderUnavailable("fake", "503 from the provider"))

        report = app.relay_outbox()

        assert report.retried == 5
        assert report.deferred == 2  # the circuit opened after the fifth failure
        deferred = [
            row
            for row in outbox(store, OutboxKind.SEND_SMS)
            if row.status is OutboxStatus.DEFERRED and row.attempts == 0
        ]
        assert len(deferred) == 2
        clock.advance(timedelta(minutes=5))
        app.relay_outbox()
        assert len(sms.sent) == 7

    def test_a_row_older_than_the_time_budget_is_given_up_and_can_be_retried_by_hand(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        sms: FakeSmsSender,
    ) -> None:
        world.book(app, hours_from_now(clock, 100))
        clock.advance(timedelta(days=3, minutes=1))
        sms.fail_next(ProviderUnavailable("fake", "503 from the provider"))

        app.relay_outbox()

        [row] = outbox(store, OutboxKind.SEND_SMS)
        assert row.status is OutboxStatus.DEAD
        app.retry_outbox_message(row.id)
        app.relay_outbox()
        assert len(sms.sent) == 1
        assert outbox(store, OutboxKind.SEND_SMS)[0].status is OutboxStatus.SENT

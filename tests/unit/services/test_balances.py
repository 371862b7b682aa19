"""Balances: invoiced - credited - paid + refunded, per student per school."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.errors import NotFound
from justdriving.domain.payments import PaymentMethod

from .support import World, build_world, deliver, dkk


class TestBalance:
    def test_a_new_student_owes_nothing(self, app: Application, world: World) -> None:
        balance = app.balance(world.school.id, world.student.id)

        assert balance.amount == dkk("0.00")
        assert balance.invoiced == balance.credited == balance.paid == balance.refunded

    def test_after_a_whole_flow_the_balance_adds_up(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        school, student = world.school.id, world.student.id
        # A lesson taken and paid online, then 100.00 of it refunded as goodwill.
        taken = world.book(app, clock.now() + timedelta(days=1))
        cancelled = world.book(app, taken.slot.end)
        clock.set(taken.slot.end)
        [lesson] = app.complete_lesson(school, taken.id).invoices
        started = app.start_invoice_payment(school, lesson.id)
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        app.refund(school, started.payment.id, amount=dkk("100.00"))
        app.relay_outbox()
        # The next lesson cancelled as it was due to start: the full price, 200.00 paid in cash.
        [fee] = app.cancel_booking(school, cancelled.id, by=CancelledBy.STUDENT).invoices
        app.record_manual_payment(
            school, student, amount=dkk("200.00"), method=PaymentMethod.CASH, invoice_id=fee.id
        )
        # A package sold and voided before it was paid.
        _, package_invoice = app.sell_package(
            school, student, booking_type_id=world.lesson.id, lessons=5, price=dkk("2250.00")
        )
        app.void_invoice(school, package_invoice.id, reason="changed their mind")

        balance = app.balance(school, student)

        assert balance.invoiced == dkk("3250.00")  # 500 + 500 + 2250
        assert balance.credited == dkk("2350.00")  # 100 refund + 2250 void
        assert balance.paid == dkk("700.00")  # 500 online + 200 cash
        assert balance.refunded == dkk("100.00")
        assert balance.amount == dkk("300.00")
        assert balance.amount == fee.totals.gross - dkk("200.00")

    def test_each_school_keeps_its_own_balance(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        other = build_world(app, "Vest Køreskole")
        booking = other.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.end)
        app.complete_lesson(other.school.id, booking.id)

        assert app.balance(other.school.id, other.student.id).amount == dkk("500.00")
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_student_of_another_school_is_not_found(self, app: Application, world: World) -> None:
        other = build_world(app, "Vest Køreskole")

        with pytest.raises(NotFound):
            app.balance(world.school.id, other.student.id)


class TestOverdueInvoices:
    def test_a_student_of_another_school_is_not_found(self, app: Application, world: World) -> None:
        other = build_world(app, "Vest Køreskole")

        with pytest.raises(NotFound):
            app.overdue_invoices(world.school.id, other.student.id)

    def test_an_open_invoice_past_its_due_date_is_overdue_until_paid(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.end)
        [invoice] = app.complete_lesson(world.school.id, booking.id).invoices

        clock.advance(timedelta(days=14))
        assert app.overdue_invoices(world.school.id, world.student.id) == []
        clock.advance(timedelta(seconds=1))
        assert [i.id for i in app.overdue_invoices(world.school.id, world.student.id)] == [
            invoice.id
        ]

        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("500.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )
        assert app.overdue_invoices(world.school.id, world.student.id) == []

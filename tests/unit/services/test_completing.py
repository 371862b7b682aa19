"""Completing a lesson and marking a no-show: the lesson invoice, package lessons, the fee."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.errors import InvalidTransition
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.tax import TaxRate

from .support import (
    World,
    build_world,
    deliver,
    dkk,
    messages,
    paid_package,
    record,
    snapshot,
    with_settings,
)


class TestCompleteLesson:
    def test_a_completed_lesson_is_invoiced_with_vat_included(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.end)

        outcome = app.complete_lesson(world.school.id, booking.id)

        assert outcome.booking.status is BookingStatus.COMPLETED
        [invoice] = outcome.invoices
        stored = record(store, "invoices", invoice.id)
        assert stored.status is InvoiceStatus.OPEN
        assert stored.number == "1"
        assert stored.totals.gross == dkk("500.00")
        assert stored.totals.vat == dkk("100.00")
        assert stored.totals.net == dkk("400.00")
        [line] = stored.lines
        assert (line.service, line.vat_rate, line.vat_inclusive) == (
            InvoiceService.LESSON,
            TaxRate(2500),
            True,
        )
        assert stored.due_at == clock.now() + timedelta(days=14)
        assert app.balance(world.school.id, world.student.id).amount == dkk("500.00")
        issued = messages(store, MessageType.INVOICE_ISSUED)
        assert {m.context["invoice_number"] for m in issued} == {"1"}

    def test_a_school_without_vat_registration_invoices_without_vat(
        self, app: Application, clock: FrozenClock, store: MemoryStore
    ) -> None:
        world = build_world(app, "Momsfri", with_settings(vat_rate=TaxRate(0)))
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.end)

        [invoice] = app.complete_lesson(world.school.id, booking.id).invoices

        assert invoice.totals.vat == dkk("0.00")
        assert invoice.totals.gross == dkk("500.00")

    def test_a_lesson_cannot_be_completed_before_it_starts(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.complete_lesson(world.school.id, booking.id)
        assert snapshot(store) == before

    def test_a_lesson_is_completed_once_and_invoiced_once(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.end)
        app.complete_lesson(world.school.id, booking.id)

        with pytest.raises(InvalidTransition):
            app.complete_lesson(world.school.id, booking.id)
        assert store.count("invoices") == 1

    def test_a_package_lesson_produces_no_invoice(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        booking = world.book(app, clock.now() + timedelta(days=1), package_id=package_id)
        invoices_before = store.count("invoices")
        clock.set(booking.slot.end)

        outcome = app.complete_lesson(world.school.id, booking.id)

        assert outcome.invoices == ()
        assert store.count("invoices") == invoices_before
        assert record(store, "packages", package_id).credits_left == 1
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_charged_deposit_is_counted_against_the_lesson_invoice(
        self,
        app: Application,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        world = build_world(app, "Depositum Skole", with_settings(deposit_required=True))
        booking = world.book(app, clock.now() + timedelta(days=10))
        started = app.start_deposit(world.school.id, booking.id)
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        clock.set(booking.slot.end)

        [invoice] = app.complete_lesson(world.school.id, booking.id).invoices

        stored = record(store, "invoices", invoice.id)
        assert stored.status is InvoiceStatus.PARTIALLY_PAID
        assert stored.outstanding == dkk("400.00")
        assert store.records("deposits")[0].status is DepositStatus.SETTLED
        assert app.balance(world.school.id, world.student.id).amount == dkk("400.00")


class TestMarkNoShow:
    def test_a_no_show_is_charged_in_full(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.start + timedelta(minutes=15))

        outcome = app.mark_no_show(world.school.id, booking.id)

        assert outcome.booking.status is BookingStatus.NO_SHOW
        assert outcome.fee == dkk("500.00")
        [invoice] = outcome.invoices
        stored = record(store, "invoices", invoice.id)
        assert [line.service for line in stored.lines] == [InvoiceService.NO_SHOW_FEE]
        assert stored.totals.gross == dkk("500.00")
        assert app.balance(world.school.id, world.student.id).amount == dkk("500.00")

    def test_a_no_show_cannot_be_recorded_before_the_lesson_starts(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=1))
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.mark_no_show(world.school.id, booking.id)
        assert snapshot(store) == before

    def test_a_no_show_on_a_package_lesson_costs_the_credit_or_the_fee_never_both(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        booking = world.book(app, clock.now() + timedelta(days=1), package_id=package_id)
        clock.set(booking.slot.end)

        outcome = app.mark_no_show(world.school.id, booking.id)

        credit_returned = record(store, "packages", package_id).credits_left == 2
        assert credit_returned or outcome.invoices == ()

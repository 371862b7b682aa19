"""Lesson packages: sold with an invoice, usable once paid, consumed by bookings, refunded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus
from justdriving.domain.errors import InvalidInput, InvalidTransition, PackageExhausted
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.packages import LessonPackage, PackageStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService

from .support import World, deliver, dkk, outbox, paid_package, provider_ref, record, snapshot


def _sell(
    app: Application, world: World, lessons: int = 5, price: str = "2250.00"
) -> tuple[LessonPackage, Invoice]:
    return app.sell_package(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=lessons,
        price=dkk(price),
    )


class TestSellPackage:
    def test_selling_a_package_issues_its_invoice(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        package, invoice = _sell(app, world)

        stored = record(store, "invoices", invoice.id)
        assert stored.status is InvoiceStatus.OPEN
        assert stored.number == "1"
        assert stored.package_id == package.id
        assert [line.service for line in stored.lines] == [InvoiceService.PACKAGE]
        assert stored.totals.gross == dkk("2250.00")
        assert record(store, "packages", package.id).status is PackageStatus.AWAITING_PAYMENT
        assert app.balance(world.school.id, world.student.id).amount == dkk("2250.00")

    def test_credits_cannot_be_used_before_the_invoice_is_paid(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package, _ = _sell(app, world)
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            world.book(app, clock.now() + timedelta(days=2), package_id=package.id)
        assert snapshot(store) == before

    def test_a_part_payment_does_not_unlock_the_credits(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package, invoice = _sell(app, world)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("1000.00"),
            method=PaymentMethod.MOBILEPAY,
            invoice_id=invoice.id,
        )

        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PARTIALLY_PAID
        assert record(store, "packages", package.id).status is PackageStatus.AWAITING_PAYMENT
        with pytest.raises(InvalidTransition):
            world.book(app, clock.now() + timedelta(days=2), package_id=package.id)

    def test_a_paid_package_pays_for_bookings_one_credit_each(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, invoice_id = paid_package(app, world, lessons=3, price="1350.00")
        assert record(store, "invoices", invoice_id).status is InvoiceStatus.PAID

        first = world.book(app, clock.now() + timedelta(days=2), package_id=package_id)
        second = world.book(app, first.slot.end, package_id=package_id)

        package = record(store, "packages", package_id)
        assert package.status is PackageStatus.ACTIVE
        assert package.credits_left == 1
        assert package.used_by == [first.id, second.id]
        assert first.status is second.status is BookingStatus.CONFIRMED

    def test_an_exhausted_package_refuses_another_booking(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=1, price="450.00")
        first = world.book(app, clock.now() + timedelta(days=2), package_id=package_id)
        before = snapshot(store)

        with pytest.raises(PackageExhausted):
            world.book(app, first.slot.end, package_id=package_id)
        assert snapshot(store) == before

    def test_an_expired_package_refuses_bookings(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package, invoice = app.sell_package(
            world.school.id,
            world.student.id,
            booking_type_id=world.lesson.id,
            lessons=5,
            price=dkk("2250.00"),
            valid_for=timedelta(days=30),
        )
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("2250.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )
        clock.advance(timedelta(days=31))

        with pytest.raises(PackageExhausted):
            world.book(app, clock.now() + timedelta(days=2), package_id=package.id)
        assert store.count("bookings") == 0

    def test_a_package_pays_for_its_own_students_lessons_only(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world)
        other = world.add_student(app)
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            world.book(app, clock.now() + timedelta(days=2), student=other, package_id=package_id)
        assert snapshot(store) == before


class TestRefundPackage:
    def test_the_refund_is_what_was_paid_minus_the_lessons_taken(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, invoice_id = paid_package(app, world, lessons=5, price="2250.00")
        world.book(app, clock.now() + timedelta(days=2), package_id=package_id)

        [refund] = app.refund_package(world.school.id, package_id)

        assert refund.amount == dkk("1750.00")  # 2250 paid - 1 lesson at 500
        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED  # cash
        assert record(store, "packages", package_id).status is PackageStatus.CLOSED
        [note] = store.records("credit_notes")
        assert (note.invoice_id, note.totals.gross) == (invoice_id, dkk("1750.00"))
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    @pytest.mark.parametrize("online", [False, True])
    def test_a_package_is_refunded_once_however_often_it_is_asked(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
        online: bool,
    ) -> None:
        if online:
            package, invoice = _sell(app, world, lessons=2, price="900.00")
            started = app.start_invoice_payment(world.school.id, invoice.id)
            deliver(app, gateway.succeed(started.session.provider_payment_id))
            package_id = package.id
        else:
            package_id, _ = paid_package(app, world, lessons=2, price="900.00")
        world.book(app, clock.now() + timedelta(days=2), package_id=package_id)
        [refund] = app.refund_package(world.school.id, package_id)
        app.relay_outbox()
        before = snapshot(store)

        for _ in range(3):
            with pytest.raises(InvalidTransition):
                app.refund_package(world.school.id, package_id)

        assert snapshot(store) == before
        assert refund.amount == dkk("400.00")  # 900 paid - 1 lesson at 500
        refunds = store.records("refunds")
        assert [(r.amount, r.status) for r in refunds] == [(dkk("400.00"), RefundStatus.SUCCEEDED)]
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_package_refund_counts_what_the_school_already_refunded_by_hand(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        package_id, invoice_id = paid_package(app, world, lessons=2, price="900.00")
        [payment] = store.records("payments")
        app.refund(world.school.id, payment.id, amount=dkk("100.00"))

        [refund] = app.refund_package(world.school.id, package_id)

        assert refund.amount == dkk("800.00")
        assert record(store, "payments", payment.id).refunded == dkk("900.00")
        assert record(store, "invoices", invoice_id).outstanding == dkk("0.00")

    def test_a_package_paid_in_two_instalments_is_refunded_in_full(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        package, invoice = _sell(app, world, lessons=5, price="2250.00")
        for amount, method in (
            ("1000.00", PaymentMethod.CASH),
            ("1250.00", PaymentMethod.MOBILEPAY),
        ):
            app.record_manual_payment(
                world.school.id,
                world.student.id,
                amount=dkk(amount),
                method=method,
                invoice_id=invoice.id,
            )
        assert record(store, "packages", package.id).status is PackageStatus.ACTIVE

        refunds = app.refund_package(world.school.id, package.id)

        assert sorted(r.amount for r in refunds) == [dkk("1000.00"), dkk("1250.00")]
        refunded = sum(r.amount.amount for r in store.records("refunds"))
        assert refunded == dkk("2250.00").amount
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_refunded_package_takes_no_more_bookings(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        package_id, _ = paid_package(app, world)
        app.refund_package(world.school.id, package_id)

        with pytest.raises(InvalidTransition):
            world.book(app, clock.now() + timedelta(days=2), package_id=package_id)

    def test_a_used_up_package_closes_without_a_refund(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        package_id, _ = paid_package(app, world, lessons=1, price="450.00")
        world.book(app, clock.now() + timedelta(days=2), package_id=package_id)

        assert app.refund_package(world.school.id, package_id) == []
        assert store.count("refunds") == 0
        assert record(store, "packages", package_id).status is PackageStatus.CLOSED

    def test_an_unpaid_package_has_nothing_to_refund(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        package, _ = _sell(app, world)
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.refund_package(world.school.id, package.id)
        assert snapshot(store) == before

    def test_a_package_paid_online_is_refunded_through_the_gateway(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        package, invoice = _sell(app, world, lessons=2, price="900.00")
        started = app.start_invoice_payment(world.school.id, invoice.id)
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        assert record(store, "packages", package.id).status is PackageStatus.ACTIVE

        [refund] = app.refund_package(world.school.id, package.id)

        [row] = outbox(store, OutboxKind.REFUND_PAYMENT)
        assert row.idempotency_key == refund.id
        app.relay_outbox()
        [sent] = gateway.refunds.values()
        assert sent.amount == dkk("900.00")
        assert sent.provider_payment_id == provider_ref(gateway, started.payment.id)
        assert ("refund", row.idempotency_key) in gateway.calls

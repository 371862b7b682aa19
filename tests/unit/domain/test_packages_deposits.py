"""Lesson packages (credits used, given back, refunded, expired) and booking deposits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.deposits import Deposit, DepositStatus, capture_mode_for
from justdriving.domain.errors import (
    CurrencyMismatch,
    InvalidInput,
    InvalidTransition,
    PackageExhausted,
)
from justdriving.domain.ids import (
    BookingId,
    BookingTypeId,
    DepositId,
    InvoiceId,
    PackageId,
    PaymentId,
)
from justdriving.domain.money import Money
from justdriving.domain.packages import LessonPackage, PackageStatus
from justdriving.domain.payments import CaptureMode

from .builders import NOW, SCHOOL, STUDENT, dkk

EXPIRES = NOW + timedelta(days=180)


def _package(
    lessons: int = 10,
    price: Money | None = None,
    single: Money | None = None,
    *,
    active: bool = True,
) -> LessonPackage:
    package = LessonPackage(
        id=PackageId("pk_1"),
        school_id=SCHOOL,
        student_id=STUDENT,
        booking_type_id=BookingTypeId("bt_1"),
        lessons=lessons,
        price=price if price is not None else dkk("4500.00"),
        single_lesson_price=single if single is not None else dkk("500.00"),
        expires_at=EXPIRES,
    )
    if active:
        package.activate()
    return package


def _bookings(n: int) -> list[BookingId]:
    return [BookingId(f"bk_{i}") for i in range(n)]


class TestUsingAPackage:
    def test_each_booking_uses_one_credit(self):
        package = _package(lessons=10)

        for booking in _bookings(3):
            package.consume(booking, NOW)

        assert package.credits_left == 7

    def test_using_the_package_twice_for_the_same_booking_costs_one_credit(self):
        package = _package(lessons=10)

        package.consume(BookingId("bk_1"), NOW)
        package.consume(BookingId("bk_1"), NOW)

        assert package.credits_left == 9

    def test_an_exhausted_package_refuses_another_booking(self):
        package = _package(lessons=2)
        for booking in _bookings(2):
            package.consume(booking, NOW)

        with pytest.raises(PackageExhausted):
            package.consume(BookingId("bk_extra"), NOW)
        assert package.credits_left == 0
        assert not package.usable(NOW)

    def test_an_expired_package_refuses_a_booking(self):
        package = _package()

        with pytest.raises(PackageExhausted):
            package.consume(BookingId("bk_1"), EXPIRES)
        assert package.credits_left == 10
        assert package.usable(EXPIRES - timedelta(seconds=1))
        assert not package.usable(EXPIRES)

    def test_an_unpaid_package_cannot_be_used(self):
        package = _package(active=False)

        with pytest.raises(InvalidTransition):
            package.consume(BookingId("bk_1"), NOW)
        assert not package.usable(NOW)

    def test_a_free_cancellation_gives_the_credit_back(self):
        package = _package(lessons=10)
        package.consume(BookingId("bk_1"), NOW)

        package.release(BookingId("bk_1"))

        assert package.credits_left == 10

    def test_releasing_a_booking_that_used_no_credit_changes_nothing(self):
        package = _package(lessons=10)
        package.consume(BookingId("bk_1"), NOW)

        package.release(BookingId("bk_other"))

        assert package.credits_left == 9

    def test_a_closed_package_gives_no_credit_back_and_cannot_be_reopened(self):
        package = _package(lessons=10)
        package.consume(BookingId("bk_1"), NOW)
        package.close()

        package.release(BookingId("bk_1"))

        assert package.credits_left == 9
        with pytest.raises(InvalidTransition):
            package.activate()
        with pytest.raises(InvalidTransition):
            package.consume(BookingId("bk_2"), NOW)

    def test_paying_twice_for_a_package_is_harmless(self):
        package = _package()

        package.activate()

        assert package.status is PackageStatus.ACTIVE

    @pytest.mark.parametrize(
        "build",
        [
            lambda: _package(lessons=0),
            lambda: _package(price=dkk("-1.00")),
            lambda: _package(single=dkk("0.00")),
        ],
    )
    def test_a_package_holds_at_least_one_lesson_at_positive_prices(self, build):
        with pytest.raises(InvalidInput):
            build()

    def test_a_package_is_priced_in_one_currency(self):
        with pytest.raises(CurrencyMismatch):
            _package(single=Money(5_000, "EUR"))


class TestRefundingAPackage:
    def test_unused_lessons_are_refunded_as_paid_minus_lessons_taken_at_the_single_price(self):
        package = _package(lessons=10, price=dkk("4500.00"), single=dkk("500.00"))
        for booking in _bookings(3):
            package.consume(booking, NOW)

        assert package.refundable_amount() == dkk("3000.00")

    def test_a_package_used_beyond_its_discount_refunds_nothing(self):
        package = _package(lessons=10, price=dkk("4500.00"), single=dkk("500.00"))
        for booking in _bookings(10):
            package.consume(booking, NOW)

        assert package.refundable_amount() == dkk("0.00")

    @given(
        st.integers(1, 40),
        st.integers(0, 2_000_000),
        st.integers(1, 100_000),
        st.data(),
    )
    def test_the_refund_is_what_was_paid_less_lessons_taken_and_never_negative(
        self, lessons, price, single, data
    ):
        package = _package(lessons, Money(price, "DKK"), Money(single, "DKK"))
        taken = data.draw(st.integers(0, lessons), label="lessons taken")
        for booking in _bookings(taken):
            package.consume(booking, NOW)

        refund = package.refundable_amount()

        assert refund == Money(max(price - taken * single, 0), "DKK")
        assert not refund.is_negative
        assert refund <= package.price


class TestDepositCaptureMode:
    @pytest.mark.parametrize(
        ("ahead", "mode"),
        [
            (timedelta(hours=1), CaptureMode.MANUAL),
            (timedelta(days=6), CaptureMode.MANUAL),
            (timedelta(days=6, seconds=1), CaptureMode.AUTOMATIC),
            (timedelta(days=30), CaptureMode.AUTOMATIC),
        ],
    )
    def test_a_card_is_held_for_lessons_within_six_days_and_charged_for_later_ones(
        self, ahead, mode
    ):
        assert capture_mode_for(NOW + ahead, NOW) is mode


def _deposit() -> Deposit:
    return Deposit(
        id=DepositId("dep_1"),
        school_id=SCHOOL,
        booking_id=BookingId("bk_1"),
        student_id=STUDENT,
        payment_id=PaymentId("pay_1"),
        amount=dkk("100.00"),
        capture_mode=CaptureMode.MANUAL,
    )


def _secured() -> Deposit:
    deposit = _deposit()
    deposit.secure(NOW)
    return deposit


class TestDeposits:
    def test_a_secured_deposit_is_settled_against_the_lessons_invoice(self):
        deposit = _secured()

        deposit.settle(InvoiceId("inv_1"), NOW)
        deposit.settle(InvoiceId("inv_1"), NOW)

        assert deposit.status is DepositStatus.SETTLED

    def test_a_secured_deposit_can_be_given_back(self):
        deposit = _secured()

        deposit.give_back(NOW)
        deposit.give_back(NOW)

        assert deposit.status is DepositStatus.RETURNED

    @pytest.mark.parametrize(
        "act",
        [lambda d: d.settle(InvoiceId("inv_1"), NOW), lambda d: d.give_back(NOW)],
        ids=["settle", "give back"],
    )
    def test_a_deposit_that_was_never_secured_can_be_neither_settled_nor_given_back(self, act):
        deposit = _deposit()

        with pytest.raises(InvalidTransition):
            act(deposit)
        assert deposit.status is DepositStatus.PENDING

    def test_a_settled_deposit_cannot_also_be_given_back(self):
        deposit = _secured()
        deposit.settle(InvoiceId("inv_1"), NOW)

        with pytest.raises(InvalidTransition):
            deposit.give_back(NOW)
        assert deposit.status is DepositStatus.SETTLED

    def test_a_returned_deposit_cannot_also_be_settled(self):
        deposit = _secured()
        deposit.give_back(NOW)

        with pytest.raises(InvalidTransition):
            deposit.settle(InvoiceId("inv_1"), NOW)
        assert deposit.status is DepositStatus.RETURNED

    def test_a_failed_deposit_stays_failed(self):
        deposit = _deposit()

        deposit.fail()
        deposit.secure(NOW)

        assert deposit.status is DepositStatus.FAILED

    def test_each_change_records_its_event_once(self):
        deposit = _secured()
        deposit.secure(NOW)
        deposit.settle(InvoiceId("inv_1"), NOW)
        deposit.settle(InvoiceId("inv_1"), NOW)

        assert [type(e).__name__ for e in deposit.events.drain()] == [
            "DepositSecured",
            "DepositSettled",
        ]

    def test_a_given_back_deposit_records_the_amount_to_return(self):
        deposit = _secured()
        deposit.events.drain()

        deposit.give_back(NOW)
        deposit.give_back(NOW)

        [returned] = deposit.events.drain()
        assert (returned.payment_id, returned.amount) == ("pay_1", dkk("100.00"))

    def test_a_late_failure_does_not_undo_a_secured_deposit(self):
        deposit = _secured()

        deposit.fail()

        assert deposit.status is DepositStatus.SECURED

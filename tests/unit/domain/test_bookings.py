"""Bookings: time slots, what a cancellation costs, and a lifecycle that only moves forward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from justdriving.domain.bookings import (
    Booking,
    BookingStatus,
    BookingType,
    CancellationPolicy,
    CancelledBy,
    FeeTier,
    TimeSlot,
)
from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.events import BookingCancelled, BookingRequested
from justdriving.domain.ids import BookingId, BookingTypeId, StudentId, TeacherId
from justdriving.domain.money import Money

from .builders import NOW, SCHOOL, STUDENT, dkk

PRICE = dkk("500.00")
START = NOW + timedelta(days=2)
HOURS = timedelta(hours=1)
# The policy of the brief: free until 24 h before, 50 % inside 24 h, 100 % inside 2 h.
TIERED = CancellationPolicy(
    free_until_hours=24, tiers=(FeeTier(within_hours=24, percent=50), FeeTier(2, percent=100))
)


def _lesson_type(policy: CancellationPolicy = TIERED) -> BookingType:
    return BookingType(
        id=BookingTypeId("bt_1"),
        school_id=SCHOOL,
        name="Driving lesson",
        duration=timedelta(minutes=90),
        price=PRICE,
        policy=policy,
    )


def _booking(policy: CancellationPolicy = TIERED) -> Booking:
    return Booking.request(
        id=BookingId("bk_1"),
        school_id=SCHOOL,
        teacher_id=TeacherId("tch_1"),
        student_ids=(STUDENT,),
        booking_type=_lesson_type(policy),
        start=START,
        now=NOW,
    )


def _confirmed() -> Booking:
    booking = _booking()
    booking.confirm(NOW)
    return booking


def _slot(start_hour: int, end_hour: int) -> TimeSlot:
    day = NOW.replace(hour=0)
    return TimeSlot(day + start_hour * HOURS, day + end_hour * HOURS)


class TestTimeSlots:
    def test_slots_that_merely_touch_do_not_overlap(self):
        assert not _slot(9, 10).overlaps(_slot(10, 11))
        assert not _slot(10, 11).overlaps(_slot(9, 10))

    @pytest.mark.parametrize(("start", "end"), [(9, 11), (10, 12), (8, 13), (10, 11)])
    def test_slots_sharing_any_time_overlap(self, start, end):
        assert _slot(start, end).overlaps(_slot(9, 12))
        assert _slot(9, 12).overlaps(_slot(start, end))

    def test_slots_compare_as_instants_whatever_their_timezone(self):
        copenhagen = timezone(timedelta(hours=1))
        local = TimeSlot(datetime(2025, 3, 3, 10, tzinfo=copenhagen), NOW + HOURS)

        assert local.overlaps(TimeSlot(NOW, NOW + HOURS))
        assert not local.overlaps(TimeSlot(NOW - HOURS, NOW))
        assert local.duration == HOURS

    def test_a_slot_refuses_times_without_a_timezone(self):
        naive = datetime(2025, 3, 3, 9, 0)

        with pytest.raises(InvalidInput):
            TimeSlot(naive, naive + HOURS)

    @pytest.mark.parametrize("length", [timedelta(0), -HOURS])
    def test_a_slot_must_end_after_it_starts(self, length):
        with pytest.raises(InvalidInput):
            TimeSlot(NOW, NOW + length)


class TestCancellationFees:
    @pytest.mark.parametrize(
        ("notice", "fee"),
        [
            (timedelta(days=3), "0.00"),
            (timedelta(hours=24), "0.00"),
            (timedelta(hours=24) - timedelta(seconds=1), "250.00"),
            (timedelta(hours=2), "250.00"),
            (timedelta(hours=2) - timedelta(seconds=1), "500.00"),
            (timedelta(0), "500.00"),
            (-HOURS, "500.00"),
        ],
    )
    def test_the_tightest_tier_the_notice_falls_in_sets_the_fee(self, notice, fee):
        assert TIERED.cancellation_fee(PRICE, START, START - notice) == dkk(fee)

    def test_a_flat_fee_is_charged_as_is(self):
        policy = CancellationPolicy(48, (FeeTier(48, flat=dkk("150.00")),))

        assert policy.cancellation_fee(PRICE, START, START - HOURS) == dkk("150.00")

    def test_a_flat_fee_is_capped_at_the_lessons_price(self):
        policy = CancellationPolicy(24, (FeeTier(24, flat=dkk("750.00")),))

        assert policy.cancellation_fee(PRICE, START, START - HOURS) == PRICE

    def test_between_the_free_window_and_the_first_tier_cancelling_is_free(self):
        policy = CancellationPolicy(72, (FeeTier(24, percent=100),))

        assert policy.cancellation_fee(PRICE, START, START - 48 * HOURS) == dkk("0.00")

    def test_a_tier_reaching_back_beyond_the_free_window_is_refused(self):
        with pytest.raises(InvalidInput):
            CancellationPolicy(24, (FeeTier(48, percent=50),))

    @pytest.mark.parametrize(
        "tier",
        [
            lambda: FeeTier(24),
            lambda: FeeTier(24, percent=50, flat=dkk("1.00")),
            lambda: FeeTier(24, percent=101),
            lambda: FeeTier(-1, percent=50),
        ],
    )
    def test_a_tier_has_either_a_percent_from_0_to_100_or_a_flat_fee(self, tier):
        with pytest.raises(InvalidInput):
            tier()


prices = st.integers(0, 1_000_000).map(lambda a: Money(a, "DKK"))


@st.composite
def policies(draw: st.DrawFn) -> CancellationPolicy:
    free_until = draw(st.integers(0, 96))
    fee = st.one_of(
        st.builds(lambda p: {"percent": p}, st.integers(0, 100)),
        st.builds(lambda a: {"flat": Money(a, "DKK")}, st.integers(0, 1_000_000)),
    )
    tiers = draw(
        st.lists(
            st.builds(lambda h, f: FeeTier(h, **f), st.integers(0, free_until), fee), max_size=4
        )
    )
    return CancellationPolicy(free_until, tiers)


notices = st.integers(-48 * 60, 120 * 60).map(lambda minutes: timedelta(minutes=minutes))


class TestCancellationFeeProperties:
    @given(policies(), prices, notices)
    def test_a_cancellation_fee_never_exceeds_the_price(self, policy, price, notice):
        fee = policy.cancellation_fee(price, START, START - notice)

        assert Money.zero("DKK") <= fee <= price

    @given(policies(), prices, notices, notices)
    def test_a_later_cancellation_never_costs_less(self, policy, price, notice_a, notice_b):
        earlier, later = START - max(notice_a, notice_b), START - min(notice_a, notice_b)

        assert policy.cancellation_fee(price, START, earlier) <= policy.cancellation_fee(
            price, START, later
        )

    @given(st.integers(-100, 300), prices)
    def test_a_no_show_fee_is_never_negative_nor_above_the_price(self, percent, price):
        try:
            policy = CancellationPolicy(no_show_percent=percent)
        except InvalidInput:
            return  # a policy the domain refuses can charge nothing
        assert Money.zero("DKK") <= policy.no_show_fee(price) <= price


class TestCancelling:
    def test_a_student_cancelling_a_confirmed_lesson_late_pays_the_policy_fee(self):
        booking = _confirmed()

        fee = booking.cancel(CancelledBy.STUDENT, START - 3 * HOURS, TIERED)

        assert fee == booking.fee == dkk("250.00")
        assert booking.status is BookingStatus.CANCELLED
        assert booking.cancelled_by is CancelledBy.STUDENT
        assert booking.cancelled_at == START - 3 * HOURS
        assert booking.events.pending[-1] == BookingCancelled(
            START - 3 * HOURS, booking.id, "student", dkk("250.00"), school_id=booking.school_id
        )

    @pytest.mark.parametrize("by", [CancelledBy.TEACHER, CancelledBy.SCHOOL])
    def test_a_cancellation_by_the_teacher_or_school_costs_the_student_nothing(self, by):
        booking = _confirmed()

        fee = booking.cancel(by, START - HOURS, TIERED)

        assert fee == dkk("0.00")
        assert not booking.fee
        assert booking.events.pending[-1] == BookingCancelled(
            START - HOURS, booking.id, by.value, None, school_id=booking.school_id
        )

    def test_withdrawing_a_request_that_was_never_confirmed_costs_nothing(self):
        booking = _booking()

        assert booking.cancel(CancelledBy.STUDENT, START - HOURS, TIERED) == dkk("0.00")

    def test_a_cancelled_lesson_no_longer_blocks_the_teacher(self):
        booking = _confirmed()
        assert booking.blocks_teacher

        booking.cancel(CancelledBy.TEACHER, NOW, TIERED)

        assert not booking.blocks_teacher


class TestCompletingAndNoShows:
    def test_a_lesson_cannot_be_completed_before_it_starts(self):
        booking = _confirmed()

        with pytest.raises(InvalidTransition):
            booking.complete(START - timedelta(seconds=1))
        assert booking.status is BookingStatus.CONFIRMED

    def test_a_lesson_can_be_completed_once_it_has_started(self):
        booking = _confirmed()

        booking.complete(START)

        assert booking.status is BookingStatus.COMPLETED
        assert booking.fee is None

    def test_an_unconfirmed_lesson_cannot_be_completed(self):
        booking = _booking()

        with pytest.raises(InvalidTransition):
            booking.complete(START + HOURS)
        assert booking.status is BookingStatus.PENDING

    @pytest.mark.parametrize(("percent", "fee"), [(100, "500.00"), (50, "250.00"), (0, "0.00")])
    def test_a_no_show_is_charged_per_the_policy(self, percent, fee):
        booking = _confirmed()

        charged = booking.mark_no_show(START + HOURS, CancellationPolicy(no_show_percent=percent))

        assert charged == booking.fee == dkk(fee)
        assert booking.status is BookingStatus.NO_SHOW

    def test_a_student_cannot_be_marked_absent_before_the_lesson_starts(self):
        booking = _confirmed()

        with pytest.raises(InvalidTransition):
            booking.mark_no_show(START - HOURS, TIERED)
        assert booking.status is BookingStatus.CONFIRMED
        assert booking.fee is None

    def test_a_booking_needs_at_least_one_student(self):
        with pytest.raises(InvalidInput):
            Booking(
                id=BookingId("bk_1"),
                school_id=SCHOOL,
                teacher_id=TeacherId("tch_1"),
                student_ids=(),
                booking_type_id=BookingTypeId("bt_1"),
                slot=TimeSlot(START, START + HOURS),
                price=PRICE,
            )

    def test_requesting_a_booking_records_it_as_pending_for_the_types_duration(self):
        booking = _booking()

        assert booking.status is BookingStatus.PENDING
        assert booking.slot == TimeSlot(START, START + timedelta(minutes=90))
        assert booking.events.pending == [
            BookingRequested(NOW, booking.id, school_id=booking.school_id)
        ]
        assert booking.student_ids == (StudentId("stu_1"),)


class BookingLifecycle(RuleBasedStateMachine):
    """Random confirms, cancellations, completions, no-shows and time passing."""

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.booking = _booking()
        self.expected = BookingStatus.PENDING
        self.confirmed_when_cancelled = False

    def _snapshot(self) -> tuple[object, ...]:
        b = self.booking
        return (b.status, b.fee, b.cancelled_by, b.cancelled_at, list(b.events.pending))

    def _attempt(
        self, action: Callable[[], Money | None], *, allowed: bool, becomes: BookingStatus
    ) -> Money | None:
        before = self._snapshot()
        try:
            result = action()
        except InvalidTransition:
            assert not allowed, f"refused a move that is allowed from {before[0]}"
            assert self._snapshot() == before, "a refused move changed the booking"
            return None
        assert allowed, f"allowed a move that is not allowed from {before[0]}"
        self.expected = becomes
        return result

    @property
    def _started(self) -> bool:
        return self.now >= self.booking.slot.start

    @rule(minutes=st.integers(1, 30 * 60))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def confirm(self) -> None:
        allowed = self.expected in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        self._attempt(
            lambda: self.booking.confirm(self.now), allowed=allowed, becomes=BookingStatus.CONFIRMED
        )

    @rule(by=st.sampled_from(CancelledBy))
    def cancel(self, by: CancelledBy) -> None:
        was_confirmed = self.expected is BookingStatus.CONFIRMED
        fee = self._attempt(
            lambda: self.booking.cancel(by, self.now, TIERED),
            allowed=not self.expected.is_final,
            becomes=BookingStatus.CANCELLED,
        )
        if fee is not None:
            self.confirmed_when_cancelled = was_confirmed
            charged = by is CancelledBy.STUDENT and was_confirmed
            start = self.booking.slot.start
            assert fee == (
                TIERED.cancellation_fee(PRICE, start, self.now) if charged else 0 * PRICE
            )

    @rule()
    def complete(self) -> None:
        self._attempt(
            lambda: self.booking.complete(self.now),
            allowed=self.expected is BookingStatus.CONFIRMED and self._started,
            becomes=BookingStatus.COMPLETED,
        )

    @rule()
    def no_show(self) -> None:
        fee = self._attempt(
            lambda: self.booking.mark_no_show(self.now, TIERED),
            allowed=self.expected is BookingStatus.CONFIRMED and self._started,
            becomes=BookingStatus.NO_SHOW,
        )
        assert fee in (None, PRICE)

    @invariant()
    def status_follows_the_lifecycle_and_never_leaves_a_final_state(self) -> None:
        assert self.booking.status is self.expected

    @invariant()
    def a_fee_is_only_owed_after_a_late_student_cancellation_or_a_no_show(self) -> None:
        b = self.booking
        if not b.status.is_final:
            assert b.fee is None
        if b.fee:
            late_student_cancel = (
                b.status is BookingStatus.CANCELLED
                and b.cancelled_by is CancelledBy.STUDENT
                and self.confirmed_when_cancelled
            )
            assert late_student_cancel or b.status is BookingStatus.NO_SHOW
            assert b.fee <= b.price

    @invariant()
    def only_open_bookings_block_the_teacher(self) -> None:
        assert self.booking.blocks_teacher == (not self.booking.status.is_final)


BookingLifecycle.TestCase.settings = settings(max_examples=150, stateful_step_count=25)
TestBookingLifecycle = BookingLifecycle.TestCase

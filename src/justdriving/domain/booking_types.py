"""What a school books: time slots, and booking types with their cancellation policy (fee
tiers by notice, the no-show fee)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import (
    BookingTypeId,
    SchoolId,
)
from justdriving.domain.moments import check_moment, moment, shifted
from justdriving.domain.money import Money
from justdriving.domain.people import _check_name

# The longest a lesson (or a test day's car hire) lasts; the furthest back a fee tier reaches.
LONGEST_LESSON = timedelta(days=1)
LONGEST_NOTICE_HOURS = 24 * 365


def _check_hours(value: Any, what: str) -> None:
    if type(value) is not int or not 0 <= value <= LONGEST_NOTICE_HOURS:
        raise InvalidInput(f"{what} is an int of hours from 0 to {LONGEST_NOTICE_HOURS}")


def _check_percent(value: Any, what: str) -> None:
    if type(value) is not int or not 0 <= value <= 100:
        raise InvalidInput(f"{what} is an int percent between 0 and 100")


@frozen
class TimeSlot:
    """A half-open interval [start, end) in aware time."""

    start: datetime = field(validator=moment)
    end: datetime = field(validator=moment)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput("a time slot must end after it starts")

    @classmethod
    def starting(cls, start: datetime, duration: timedelta) -> TimeSlot:
        return cls(check_moment(start, "start"), shifted(start, duration))

    def overlaps(self, other: TimeSlot) -> bool:
        return self.start < other.end and other.start < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@frozen
class FeeTier:
    """Inside `within_hours` of the start, the fee is `percent` of the price or a `flat` amount."""

    within_hours: int
    percent: int | None = None
    flat: Money | None = None

    def __attrs_post_init__(self) -> None:
        _check_hours(self.within_hours, "a fee tier's within_hours")
        if (self.percent is None) == (self.flat is None):
            raise InvalidInput("a fee tier has either a percent or a flat amount")
        if self.percent is not None:
            _check_percent(self.percent, "a fee tier's percent")
        if self.flat is not None and not isinstance(self.flat, Money):
            raise InvalidInput("a fee tier's flat amount is Money")

    def fee(self, price: Money) -> Money:
        if self.flat is not None:
            return min(self.flat, price)
        assert self.percent is not None
        return price.percent(self.percent * 100)


def _tier_tuple(tiers: Iterable[FeeTier]) -> tuple[FeeTier, ...]:
    if isinstance(tiers, str | bytes) or not isinstance(tiers, Iterable):
        raise InvalidInput("a cancellation policy's tiers are a sequence of FeeTier values")
    return tuple(tiers)


def _default_tiers() -> tuple[FeeTier, ...]:
    return (FeeTier(within_hours=24, percent=100),)


@frozen
class CancellationPolicy:
    """Free until `free_until_hours` before the start; then the dearest matching tier applies."""

    free_until_hours: int = 24
    tiers: tuple[FeeTier, ...] = field(factory=_default_tiers, converter=_tier_tuple)
    no_show_percent: int = 100

    def __attrs_post_init__(self) -> None:
        _check_hours(self.free_until_hours, "free_until_hours")
        _check_percent(self.no_show_percent, "the no-show fee")
        if not all(isinstance(t, FeeTier) for t in self.tiers):
            raise InvalidInput("a cancellation policy's tiers are FeeTier values")
        if any(t.within_hours > self.free_until_hours for t in self.tiers):
            raise InvalidInput("a fee tier cannot reach further back than the free window")

    def cancellation_fee(self, price: Money, start: datetime, now: datetime) -> Money:
        """Fee for a student cancelling at `now`; zero inside the free window."""
        notice = start - now
        if notice >= timedelta(hours=self.free_until_hours):
            return Money.zero(price.currency)
        matching = [t.fee(price) for t in self.tiers if notice < timedelta(hours=t.within_hours)]
        # The dearest matching tier: as notice shrinks, tiers only join, so a later
        # cancellation never costs less, whatever order the tiers were written in.
        return max(matching, default=Money.zero(price.currency))

    def no_show_fee(self, price: Money) -> Money:
        return price.percent(self.no_show_percent * 100)


@define(eq=False)
class BookingType(Entity):
    id: BookingTypeId
    school_id: SchoolId
    name: str = field(validator=_check_name)
    duration: timedelta
    price: Money
    policy: CancellationPolicy = field(factory=CancellationPolicy)
    deposit: Money | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.duration, timedelta):
            raise InvalidInput("a booking type's duration is a timedelta")
        if not timedelta(0) < self.duration <= LONGEST_LESSON:
            raise InvalidInput("a booking type lasts a positive time of at most a day")
        if not isinstance(self.price, Money):
            raise InvalidInput("a booking type's price is Money")
        if not isinstance(self.policy, CancellationPolicy):
            raise InvalidInput("a booking type's policy is a CancellationPolicy")
        if self.deposit is not None and not isinstance(self.deposit, Money):
            raise InvalidInput("a booking type's deposit is Money")
        if self.price.is_negative:
            raise InvalidInput("a price cannot be negative")
        if (
            self.deposit is not None
            and not Money.zero(self.price.currency) < self.deposit <= self.price
        ):
            raise InvalidInput("a deposit is positive and no more than the price")

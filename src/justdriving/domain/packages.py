"""Lesson packages: N lessons bought up front, consumed by bookings, refundable when unused."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import define, field

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput, InvalidTransition, PackageExhausted
from justdriving.domain.events import EventLog
from justdriving.domain.ids import BookingId, BookingTypeId, PackageId, SchoolId, StudentId
from justdriving.domain.moments import optional_moment
from justdriving.domain.money import Money

MOST_LESSONS = 1_000


class PackageStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    ACTIVE = "active"
    CLOSED = "closed"  # refunded or expired: no more credits can be used


@define(eq=False)
class LessonPackage(Entity):
    id: PackageId
    school_id: SchoolId
    student_id: StudentId
    booking_type_id: BookingTypeId
    lessons: int
    price: Money
    single_lesson_price: Money
    expires_at: datetime | None = field(default=None, validator=optional_moment)
    status: PackageStatus = PackageStatus.AWAITING_PAYMENT
    used_by: list[BookingId] = field(factory=list)
    # Paid in instalments: the credits the instalments paid so far unlock (None: every
    # credit, once the package is paid).
    unlocked: int | None = None
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    def __attrs_post_init__(self) -> None:
        if type(self.lessons) is not int or not 1 <= self.lessons <= MOST_LESSONS:
            raise InvalidInput(f"a package holds from 1 to {MOST_LESSONS} lessons")
        if not isinstance(self.price, Money) or not isinstance(self.single_lesson_price, Money):
            raise InvalidInput("package prices are Money")
        if self.price.is_negative or not self.single_lesson_price.is_positive:
            raise InvalidInput("package prices must be positive")
        self.price + self.single_lesson_price  # same currency, or CurrencyMismatch

    @property
    def credits_left(self) -> int:
        usable = self.lessons if self.unlocked is None else self.unlocked
        return max(usable - len(self.used_by), 0)

    def usable(self, now: datetime) -> bool:
        not_expired = self.expires_at is None or now < self.expires_at
        return self.status is PackageStatus.ACTIVE and not_expired and self.credits_left > 0

    def activate(self) -> None:
        """Paid: the credits become usable. Repeating it is a no-op."""
        if self.status is PackageStatus.CLOSED:
            raise InvalidTransition("package", self.status, "activate")
        self.status = PackageStatus.ACTIVE

    def unlock(self, credits: int) -> None:
        """An instalment was paid: `credits` of the lessons are usable (never fewer than
        before, never more than the package holds)."""
        if self.status is PackageStatus.CLOSED:
            raise InvalidTransition("package", self.status, "unlock")
        if not 0 <= credits <= self.lessons:
            raise InvalidInput(f"a package unlocks 0 to {self.lessons} credits")
        self.unlocked = max(self.unlocked or 0, credits)
        if self.unlocked > 0:
            self.status = PackageStatus.ACTIVE

    def consume(self, booking_id: BookingId, now: datetime) -> None:
        if booking_id in self.used_by:
            return
        if self.status is not PackageStatus.ACTIVE:
            raise InvalidTransition("package", self.status, "use")
        if self.expires_at is not None and now >= self.expires_at:
            raise PackageExhausted("the package has expired")
        if self.credits_left <= 0:
            raise PackageExhausted("no lessons left in the package")
        self.used_by.append(booking_id)

    def release(self, booking_id: BookingId) -> None:
        """Give a credit back (the booking was cancelled at no cost)."""
        if booking_id in self.used_by and self.status is PackageStatus.ACTIVE:
            self.used_by.remove(booking_id)

    def refundable_amount(self) -> Money:
        """The price minus the lessons taken at the single-lesson price, never below zero."""
        taken = self.single_lesson_price * len(self.used_by)
        return max(self.price - taken, Money.zero(self.price.currency))

    def refund_due(self, paid: Money, returned: Money) -> Money:
        """What is still to go back of `paid` on the package (of its price at most), when the
        lessons taken are kept at the single-lesson price and `returned` went back already."""
        zero = Money.zero(self.price.currency)
        kept = self.price - self.refundable_amount()  # the lessons taken, up to the price
        return max(max(min(paid, self.price) - kept, zero) - returned, zero)

    def close(self) -> None:
        """Refunded or expired: no credit can be used any more. Once only."""
        if self.status is PackageStatus.CLOSED:
            raise InvalidTransition("package", self.status, "close")
        self.status = PackageStatus.CLOSED

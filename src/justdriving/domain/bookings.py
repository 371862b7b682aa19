"""Bookings: time slots, booking types with their cancellation policy, and the booking lifecycle."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from justdriving.domain.booking_types import (
    LONGEST_LESSON,
    LONGEST_NOTICE_HOURS,
    BookingType,
    CancellationPolicy,
    FeeTier,
    TimeSlot,
)
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRequested,
    BookingRescheduled,
    EventLog,
)
from justdriving.domain.ids import (
    BookingId,
    BookingTypeId,
    PackageId,
    SchoolId,
    StudentId,
    TeacherId,
)
from justdriving.domain.money import Money

__all__ = [
    "LONGEST_LESSON",
    "LONGEST_NOTICE_HOURS",
    "PICKUP_NOTE_LENGTH",
    "Booking",
    "BookingStatus",
    "BookingType",
    "CancellationPolicy",
    "CancelledBy",
    "FeeTier",
    "ReminderWindow",
    "TimeSlot",
]


PICKUP_NOTE_LENGTH = 200


def _check_note(_: object, __: object, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > PICKUP_NOTE_LENGTH):
        raise InvalidInput(f"a pickup note is at most {PICKUP_NOTE_LENGTH} characters")


def _student_tuple(ids: Iterable[StudentId]) -> tuple[StudentId, ...]:
    return tuple(ids)


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_BOOKING


_FINAL_BOOKING = frozenset(
    {BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW}
)


class CancelledBy(enum.StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    SCHOOL = "school"


@define(eq=False)
class Booking(Entity):
    """A lesson of one teacher with one or more students. Moves forward only."""

    id: BookingId
    school_id: SchoolId
    teacher_id: TeacherId
    student_ids: tuple[StudentId, ...] = field(converter=_student_tuple)
    booking_type_id: BookingTypeId
    slot: TimeSlot
    price: Money
    status: BookingStatus = BookingStatus.PENDING
    package_id: PackageId | None = None
    cancelled_by: CancelledBy | None = None
    cancelled_at: datetime | None = None
    fee: Money | None = None
    reminded: tuple[str, ...] = ()  # channels whose reminder was decided, so never twice
    # Where the teacher picks the student up, or anything the teacher should know (agenda).
    pickup_note: str | None = field(default=None, validator=_check_note)
    version: int = 0
    events: EventLog = field(factory=EventLog, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.student_ids:
            raise InvalidInput("a booking has at least one student")

    @classmethod
    def request(
        cls,
        *,
        id: BookingId,
        school_id: SchoolId,
        teacher_id: TeacherId,
        student_ids: tuple[StudentId, ...],
        booking_type: BookingType,
        start: datetime,
        now: datetime,
        package_id: PackageId | None = None,
        pickup_note: str | None = None,
    ) -> Booking:
        booking = cls(
            id=id,
            school_id=school_id,
            teacher_id=teacher_id,
            student_ids=student_ids,
            booking_type_id=booking_type.id,
            slot=TimeSlot.starting(start, booking_type.duration),
            price=booking_type.price,
            package_id=package_id,
            pickup_note=pickup_note.strip() or None if pickup_note is not None else None,
        )
        booking.events.record(BookingRequested(now, id, school_id=booking.school_id))
        return booking

    @property
    def blocks_teacher(self) -> bool:
        """Whether the slot is taken in the teacher's calendar."""
        return self.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)

    def confirm(self, now: datetime) -> None:
        if self.status is BookingStatus.CONFIRMED:
            return
        self._require(BookingStatus.PENDING, action="confirm")
        self.status = BookingStatus.CONFIRMED
        self.events.record(BookingConfirmed(now, self.id, school_id=self.school_id))

    def cancel(self, by: CancelledBy, now: datetime, policy: CancellationPolicy) -> Money:
        """Cancel and return the fee each student owes (zero when the teacher or school cancels)."""
        if self.status.is_final:
            raise InvalidTransition("booking", self.status, "cancel")
        if by is CancelledBy.STUDENT and self.status is BookingStatus.CONFIRMED:
            fee = policy.cancellation_fee(self.price, self.slot.start, now)
        else:
            fee = Money.zero(self.price.currency)
        self.status = BookingStatus.CANCELLED
        self.cancelled_by, self.cancelled_at, self.fee = by, now, fee
        self.events.record(
            BookingCancelled(now, self.id, by.value, fee if fee else None, school_id=self.school_id)
        )
        return fee

    def complete(self, now: datetime) -> None:
        self._require(BookingStatus.CONFIRMED, action="complete")
        if now < self.slot.start:
            raise InvalidTransition("booking", "not yet started", "complete")
        self.status = BookingStatus.COMPLETED
        self.events.record(BookingCompleted(now, self.id, school_id=self.school_id))

    def mark_no_show(self, now: datetime, policy: CancellationPolicy) -> Money:
        self._require(BookingStatus.CONFIRMED, action="mark as no-show")
        if now < self.slot.start:
            raise InvalidTransition("booking", "not yet started", "mark as no-show")
        self.status = BookingStatus.NO_SHOW
        self.fee = policy.no_show_fee(self.price)
        self.events.record(BookingMarkedNoShow(now, self.id, school_id=self.school_id))
        return self.fee

    def reschedule(self, start: datetime, now: datetime) -> None:
        """Move a lesson that has not happened yet; its reminders will be sent anew."""
        if self.status.is_final:
            raise InvalidTransition("booking", self.status, "reschedule")
        previous = self.slot.start
        self.slot = TimeSlot.starting(start, self.slot.duration)
        self.reminded = ()
        self.events.record(BookingRescheduled(now, self.id, previous, school_id=self.school_id))

    def reminder_due(self, channel: str, ahead: timedelta, now: datetime) -> bool:
        """A confirmed lesson within `ahead` of starting, not yet reminded on `channel`."""
        upcoming = self.status is BookingStatus.CONFIRMED and now < self.slot.start
        return upcoming and channel not in self.reminded and self.slot.start - ahead <= now

    def awaiting_reminder(self, channel: str) -> datetime | None:
        """The lesson's start while its reminder on `channel` is still to be decided (a confirmed
        lesson not reminded on it), else None: what the reminders look lessons up by."""
        if self.status is BookingStatus.CONFIRMED and channel not in self.reminded:
            return self.slot.start
        return None

    def record_reminder(self, channel: str) -> None:
        if channel not in self.reminded:
            self.reminded = (*self.reminded, channel)

    def _require(self, status: BookingStatus, *, action: str) -> None:
        if self.status is not status:
            raise InvalidTransition("booking", self.status, action)


@frozen
class ReminderWindow:
    """The lessons of `school_ids` whose reminder on `channel` falls due `ahead` of the start:
    at `now`, those starting in (now, now + ahead] and still awaiting that reminder."""

    channel: str
    ahead: timedelta
    school_ids: frozenset[str]

    def covers(self, booking: Booking, now: datetime) -> bool:
        start = booking.awaiting_reminder(self.channel)
        if start is None or booking.school_id not in self.school_ids:
            return False
        return now < start <= now + self.ahead

"""What a booking's events tell its teacher: the reactions (registered in `reactions.py`) that
queue the teacher's own messages, in the teacher's language, under the school's teacher
toggles and teacher quiet hours, in the transaction that changed the booking."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.events import (
    BookingCancelled,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRescheduled,
)
from justdriving.domain.schools import MessageType
from justdriving.domain.services.steps.lessons import booking_context, student_names
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


def teacher_told_booked(uow: UnitOfWork, event: BookingConfirmed, now: datetime) -> None:
    """A lesson is booked with the teacher (confirmed: a pending one is not theirs yet)."""
    _tell_teacher(uow, event.booking_id, MessageType.TEACHER_BOOKING, {}, now)


def teacher_told_moved(uow: UnitOfWork, event: BookingRescheduled, now: datetime) -> None:
    """One of the teacher's lessons moved: the new time and the old."""
    booking = uow.bookings.get(event.booking_id)
    school = uow.schools.get(booking.school_id)
    previous = school.local_time(event.previous_start).strftime("%Y-%m-%d %H:%M")
    _tell_teacher(uow, booking.id, MessageType.TEACHER_CHANGE, {"previous_start": previous}, now)


def teacher_told_cancelled(uow: UnitOfWork, event: BookingCancelled, now: datetime) -> None:
    """A lesson of the teacher's is cancelled, saying by whom (the teacher's own cancellation
    too: their confirmation that the time is free)."""
    extra = {"cancelled_by": event.by}
    _tell_teacher(uow, event.booking_id, MessageType.TEACHER_CANCELLATION, extra, now)


def teacher_told_no_show(uow: UnitOfWork, event: BookingMarkedNoShow, now: datetime) -> None:
    """A no-show was recorded on the teacher's lesson."""
    _tell_teacher(uow, event.booking_id, MessageType.TEACHER_NO_SHOW, {}, now)


def _tell_teacher(
    uow: UnitOfWork, booking_id: str, kind: MessageType, extra: dict[str, str], now: datetime
) -> None:
    booking = uow.bookings.get(booking_id)
    school = uow.schools.get(booking.school_id)
    teacher = uow.teachers.get(booking.teacher_id)
    if not teacher.active:
        return
    context = {
        **booking_context(uow, school, booking),
        "student_names": student_names(uow, booking),
        **extra,
    }
    queue_message(uow, school, teacher, kind, context, now)

"""A teacher's "SYG" (sick) reply: routed by the sender's number to the teacher, in every school
where that number is an active teacher's, and handled as the school decided — with
`SickReport.CANCEL_DAY`, the rest of the teacher's day is cancelled as the teacher's
cancellation (no fee; each student told by the cancellation's reactions)."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import CancelledBy
from justdriving.domain.people import PhoneNumber, Teacher
from justdriving.domain.schools import School, SickReport
from justdriving.ports.persistence import UnitOfWork


def report_sick(uow: UnitOfWork, sender: PhoneNumber, now: datetime) -> int:
    """Cancel what the schools' policies say; returns how many lessons were cancelled.
    Idempotent by state: a reply delivered again finds nothing left to cancel."""
    cancelled = 0
    for school in uow.schools.list():
        if school.settings.teacher_sick_report is not SickReport.CANCEL_DAY:
            continue
        for teacher in uow.teachers.for_school(school.id):
            if teacher.active and teacher.phone == sender:
                cancelled += _cancel_rest_of_day(uow, school, teacher, now)
    return cancelled


def _cancel_rest_of_day(uow: UnitOfWork, school: School, teacher: Teacher, now: datetime) -> int:
    """The teacher's lessons that start between now and the school's midnight."""
    cancelled = 0
    for booking in uow.bookings.for_teacher_between(teacher.id, now, school.next_midnight(now)):
        if booking.status.is_final or booking.slot.start < now:
            continue  # over, or under way: not the sick day's to cancel
        policy = uow.booking_types.get(booking.booking_type_id).policy
        booking.cancel(CancelledBy.TEACHER, now, policy)
        cancelled += 1
    return cancelled

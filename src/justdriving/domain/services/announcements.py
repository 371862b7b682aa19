"""School announcements to a chosen group of students, to the teachers, or to both, through the
same queue as the rest."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from justdriving.domain.bookings import BookingStatus
from justdriving.domain.errors import InvalidInput
from justdriving.domain.messages import Channel
from justdriving.domain.people import Student, Teacher
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

_UPCOMING = timedelta(days=60)
_MAX_LENGTH = 1000


class Audience(enum.StrEnum):
    ALL = "all"
    WITH_UPCOMING_LESSONS = "with_upcoming_lessons"
    OVERDUE = "overdue"  # students with an overdue invoice


class Recipients(enum.StrEnum):
    """Who an announcement is for: the students in its audience, the teachers, or both."""

    STUDENTS = "students"
    TEACHERS = "teachers"
    BOTH = "both"


class Announcements:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def announce(
        self,
        school_id: str,
        text: str,
        *,
        audience: Audience = Audience.ALL,
        channels: frozenset[Channel] = frozenset(Channel),
        to: Recipients = Recipients.STUDENTS,
    ) -> int:
        """Queue `text` to every student in `audience`, to every active teacher, or to both
        (`to`); returns how many messages it queued. Teachers get it under their own toggles
        and quiet hours (MessageType.TEACHER_ANNOUNCEMENT). Email goes out as bulk mail
        (List-Unsubscribe); SMS waits out quiet hours."""
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_LENGTH:
            raise InvalidInput(f"an announcement is 1 to {_MAX_LENGTH} characters")
        if not isinstance(audience, Audience):
            raise InvalidInput(f"audience is one of {[a.value for a in Audience]}")
        if not isinstance(to, Recipients):
            raise InvalidInput(f"to is one of {[r.value for r in Recipients]}")
        now = self._clock.now()
        context = {"message": text.strip()}
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            people: list[tuple[Student | Teacher, MessageType]] = []
            if to is not Recipients.TEACHERS:
                students = _audience(uow, school, audience, now)
                people += [(student, MessageType.ANNOUNCEMENT) for student in students]
            if to is not Recipients.STUDENTS:
                teachers = uow.teachers.for_school(school.id)
                people += [(t, MessageType.TEACHER_ANNOUNCEMENT) for t in teachers if t.active]
            queued = sum(
                len(queue_message(uow, school, person, kind, context, now, channels))
                for person, kind in people
            )
            uow.commit()
        return queued


def _audience(uow: UnitOfWork, school: School, audience: Audience, now: datetime) -> list[Student]:
    students = list(uow.students.for_school(school.id))
    if audience is Audience.ALL:
        return students
    chosen: set[str] = set()
    if audience is Audience.WITH_UPCOMING_LESSONS:
        for booking in uow.bookings.starting_between(now, now + _UPCOMING):
            if booking.school_id == school.id and booking.status is BookingStatus.CONFIRMED:
                chosen.update(booking.student_ids)
    else:
        for student in students:
            if any(i.is_overdue(now) for i in uow.invoices.for_student(school.id, student.id)):
                chosen.add(student.id)
    return [s for s in students if s.id in chosen]

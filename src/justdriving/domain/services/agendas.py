"""The teacher's daily agenda: at the school's chosen local hour, each teacher with lessons that
day gets them in one message (times, lessons, student names, pickup notes). Decided from the
database once per teacher, day and channel: the message's id is derived from them, so a
restarted or second worker finds it and sends nothing twice."""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import Booking, BookingStatus
from justdriving.domain.errors import DuplicateRecord
from justdriving.domain.ids import MessageId, derived_id
from justdriving.domain.messages import Channel
from justdriving.domain.people import Teacher
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.steps.lessons import student_names
from justdriving.domain.services.steps.messages import queue_to_address
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


class Agendas:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    def send_due(self) -> int:
        """Queue every agenda due now (its school's hour has come today, in the school's
        timezone) and not decided before; returns how many messages it queued. An agenda
        decided late (the worker was down at the hour) lists the lessons still to come."""
        now = self._clock.now()
        with self._uow() as uow:
            schools = [s for s in uow.schools.list() if _due(s, now)]
        return sum(self._for_school(school.id, now) for school in schools)

    def _for_school(self, school_id: str, now: datetime) -> int:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            day_end = school.next_midnight(now)
            lessons: dict[str, list[Booking]] = {}
            for booking in uow.bookings.starting_between(now, day_end):
                if booking.school_id == school.id and booking.status is BookingStatus.CONFIRMED:
                    lessons.setdefault(booking.teacher_id, []).append(booking)
            teachers: dict[str, Teacher] = {
                t.id: t for t in uow.teachers.for_school(school.id) if t.active
            }
        queued = 0
        for teacher_id, bookings in sorted(lessons.items()):
            if teacher_id in teachers:
                queued += self._tell(school.id, teachers[teacher_id], bookings, now)
        return queued

    def _tell(
        self, school_id: str, teacher: Teacher, bookings: list[Booking], now: datetime
    ) -> int:
        """One teacher's agenda in its own unit of work: a race lost to another worker (the
        same derived id committed first) leaves theirs standing."""
        try:
            with self._uow() as uow:
                school = uow.schools.get(school_id)
                queued = _queue_agenda(uow, school, teacher, bookings, now)
                uow.commit()
        except DuplicateRecord:
            return 0
        return queued


def _queue_agenda(
    uow: UnitOfWork, school: School, teacher: Teacher, bookings: list[Booking], now: datetime
) -> int:
    day = school.local_time(now).date().isoformat()
    language = teacher.language or school.settings.language
    context = {
        "school_name": school.name,
        "recipient_name": teacher.name,
        "day": day,
        "lesson_count": len(bookings),
        "lessons": [_line(uow, school, b) for b in sorted(bookings, key=lambda b: b.slot.start)],
    }
    queued = 0
    for channel, address in ((Channel.SMS, teacher.phone), (Channel.EMAIL, teacher.email)):
        sms = channel is Channel.SMS
        if address is None or not school.settings.sends(MessageType.TEACHER_AGENDA, sms=sms):
            continue
        message_id = MessageId(derived_id("msg", "agenda", teacher.id, day, channel.value))
        if uow.messages.find(message_id) is not None:
            continue
        queue_to_address(
            uow,
            school,
            address,
            MessageType.TEACHER_AGENDA,
            context,
            language,
            now,
            message_id=message_id,
        )
        queued += 1
    return queued


def _line(uow: UnitOfWork, school: School, booking: Booking) -> dict[str, str]:
    return {
        "time": school.local_time(booking.slot.start).strftime("%H:%M"),
        "end": school.local_time(booking.slot.end).strftime("%H:%M"),
        "lesson": uow.booking_types.get(booking.booking_type_id).name,
        "students": student_names(uow, booking),
        "pickup": booking.pickup_note or "",
    }


def _due(school: School, now: datetime) -> bool:
    hour = school.settings.teacher_agenda_hour
    return hour is not None and school.local_time(now).hour >= hour

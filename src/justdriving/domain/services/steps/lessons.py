"""What a message about a lesson says of it: its day and time, teacher and students."""

from __future__ import annotations

from justdriving.domain.bookings import Booking
from justdriving.domain.schools import School
from justdriving.ports.persistence import UnitOfWork


def booking_context(uow: UnitOfWork, school: School, booking: Booking) -> dict[str, str]:
    teacher = uow.teachers.get(booking.teacher_id)
    booking_type = uow.booking_types.get(booking.booking_type_id)
    start = school.local_time(booking.slot.start)
    return {
        "booking_id": booking.id,
        "lesson": booking_type.name,
        "teacher_name": teacher.name,
        "start": start.strftime("%Y-%m-%d %H:%M"),
    }


def student_names(uow: UnitOfWork, booking: Booking) -> str:
    """The booking's students by name, as a teacher reads them: "Anna Andersen, Bo Berg"."""
    return ", ".join(uow.students.get(student_id).name for student_id in booking.student_ids)

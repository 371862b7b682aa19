"""Booking use cases: book, confirm, reschedule, complete, no-show and cancel.

Each loads the booking, checks the tenant, calls the verb and commits; the fees, package
credits, deposits and messages follow the booking's events (`followups/bookings.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen

from justdriving.domain.bookings import Booking, BookingType, CancelledBy
from justdriving.domain.errors import BookingNotAllowed, InvalidInput, TeacherDoubleBooked
from justdriving.domain.ids import BookingId, PackageId, StudentId, new_id
from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.people import Student
from justdriving.domain.schools import School
from justdriving.domain.services.steps.billing import in_school
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


@frozen
class BookingOutcome:
    """The booking after the change, and the invoices it produced (fees or the lesson)."""

    booking: Booking
    invoices: tuple[Invoice, ...] = ()

    @property
    def fee(self) -> Money | None:
        return self.booking.fee


class Bookings:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def book(
        self,
        school_id: str,
        *,
        teacher_id: str,
        student_ids: Sequence[str],
        booking_type_id: str,
        start: datetime,
        package_id: str | None = None,
        pickup_note: str | None = None,
    ) -> Booking:
        """Book a lesson. Confirmed at once unless the school wants a deposit first.
        `pickup_note` (where to pick the student up) is on the teacher's daily agenda."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking_type = in_school(
                uow.booking_types.get(booking_type_id), school.id, "booking type"
            )
            teacher = in_school(uow.teachers.get(teacher_id), school.id, "teacher")
            if not teacher.active:
                raise BookingNotAllowed("the teacher takes no bookings")
            students = _students(uow, school, student_ids)
            booking = Booking.request(
                id=BookingId(new_id("bk")),
                school_id=school.id,
                teacher_id=teacher.id,
                student_ids=tuple(StudentId(s.id) for s in students),
                booking_type=booking_type,
                start=start,
                now=now,
                package_id=PackageId(package_id) if package_id else None,
                pickup_note=pickup_note,
            )
            _check_rules(uow, school, booking, now)
            uow.bookings.add(booking)
            if package_id is not None:
                _use_package(uow, school, booking, booking_type, package_id, now)
            if not _needs_deposit(school, booking_type, booking):
                booking.confirm(now)  # the students are told by the reaction
            uow.commit()
        return booking

    def confirm(self, school_id: str, booking_id: str) -> Booking:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking.confirm(now)  # a no-op when confirmed, InvalidTransition when final
            uow.commit()
        return booking

    def reschedule(self, school_id: str, booking_id: str, *, start: datetime) -> Booking:
        """Move a lesson to another time, under the same rules as a new booking."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking.reschedule(start, now)
            _check_rules(uow, school, booking, now)
            uow.commit()
        return booking

    def cancel(self, school_id: str, booking_id: str, *, by: CancelledBy) -> BookingOutcome:
        """Cancel; a student's late cancellation is invoiced per the booking type's policy
        (the fee, the package credit, the deposit and the messages follow the event)."""
        if not isinstance(by, CancelledBy):
            raise InvalidInput("by must be a CancelledBy")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking.cancel(by, now, uow.booking_types.get(booking.booking_type_id).policy)
            return _committed(uow, booking)

    def complete(self, school_id: str, booking_id: str) -> BookingOutcome:
        """The lesson took place: invoice it, unless a package paid for it."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking.complete(now)
            return _committed(uow, booking)

    def mark_no_show(self, school_id: str, booking_id: str) -> BookingOutcome:
        """The student did not come: invoice the no-show fee per the booking type's policy."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking.mark_no_show(now, uow.booking_types.get(booking.booking_type_id).policy)
            return _committed(uow, booking)


def _committed(uow: UnitOfWork, booking: Booking) -> BookingOutcome:
    """Commit (the reactions invoice what the change costs) and return the invoices made."""
    before = {invoice.id for invoice in uow.invoices.for_booking(booking.id)}
    uow.commit()
    made = [i for i in uow.invoices.for_booking(booking.id) if i.id not in before]
    made.sort(key=lambda invoice: booking.student_ids.index(invoice.student_id))
    return BookingOutcome(booking, tuple(made))


def _students(uow: UnitOfWork, school: School, student_ids: Sequence[str]) -> list[Student]:
    if isinstance(student_ids, str) or not student_ids:
        raise InvalidInput("student_ids is a non-empty list of student ids")
    if len(set(student_ids)) != len(student_ids):
        raise InvalidInput("a student is listed twice")
    return [in_school(uow.students.get(s), school.id, "student") for s in student_ids]


def _check_rules(uow: UnitOfWork, school: School, booking: Booking, now: datetime) -> None:
    settings = school.settings
    start = booking.slot.start
    if start < now + timedelta(hours=settings.booking_lead_time_hours):
        raise BookingNotAllowed(f"book at least {settings.booking_lead_time_hours} h ahead")
    if start > now + timedelta(days=settings.booking_horizon_days):
        raise BookingNotAllowed(f"book at most {settings.booking_horizon_days} days ahead")
    taken = uow.bookings.for_teacher_between(booking.teacher_id, start, booking.slot.end)
    if any(other.blocks_teacher and other.id != booking.id for other in taken):
        raise TeacherDoubleBooked("the teacher already has a lesson at that time")
    if settings.block_booking_when_overdue:
        late = now - timedelta(days=settings.block_booking_overdue_days)
        for student_id in booking.student_ids:
            if any(i.is_overdue(late) for i in uow.invoices.for_student(school.id, student_id)):
                raise BookingNotAllowed("an overdue invoice must be paid before booking")


def _use_package(
    uow: UnitOfWork,
    school: School,
    booking: Booking,
    booking_type: BookingType,
    package_id: str,
    now: datetime,
) -> None:
    package = in_school(uow.packages.get(package_id), school.id, "package")
    if package.booking_type_id != booking_type.id:
        raise InvalidInput("the package is for another kind of lesson")
    if booking.student_ids != (package.student_id,):
        raise InvalidInput("a package pays for a lesson of its own student only")
    package.consume(booking.id, now)


def _needs_deposit(school: School, booking_type: BookingType, booking: Booking) -> bool:
    wanted = school.settings.deposit_required and booking_type.deposit is not None
    return wanted and booking.package_id is None

"""Booking use cases: book, confirm, complete, no-show and cancel, with fees and messages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from attrs import frozen

from justdriving.domain.bookings import Booking, BookingStatus, BookingType, CancelledBy
from justdriving.domain.errors import BookingNotAllowed, InvalidInput, TeacherDoubleBooked
from justdriving.domain.formatting import day_and_time, line_text, money
from justdriving.domain.ids import BookingId, PackageId, StudentId, new_id
from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.people import Student
from justdriving.domain.schools import InvoiceService, MessageType, School
from justdriving.domain.services.billing import in_school, invoice_lines, line
from justdriving.domain.services.deposits import close_deposit
from justdriving.domain.services.notifications import queue_message
from justdriving.domain.services.settlement import booking_context, confirm_booking
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
    ) -> Booking:
        """Book a lesson. Confirmed at once unless the school wants a deposit first."""
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
            )
            _check_rules(uow, school, booking, now)
            uow.bookings.add(booking)
            if package_id is not None:
                _use_package(uow, school, booking, booking_type, package_id, now)
            if not _needs_deposit(school, booking_type, booking):
                confirm_booking(uow, school, booking, now)
            uow.commit()
        return booking

    def confirm(self, school_id: str, booking_id: str) -> Booking:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            if booking.status is BookingStatus.PENDING:
                confirm_booking(uow, school, booking, now)
            else:
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
            context = booking_context(uow, school, booking)
            for student_id in booking.student_ids:
                student = uow.students.get(student_id)
                queue_message(uow, school, student, MessageType.BOOKING_CHANGE, context, now)
            uow.commit()
        return booking

    def cancel(self, school_id: str, booking_id: str, *, by: CancelledBy) -> BookingOutcome:
        """Cancel; a student's late cancellation is invoiced per the booking type's policy."""
        if not isinstance(by, CancelledBy):
            raise InvalidInput("by must be a CancelledBy")
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking_type = uow.booking_types.get(booking.booking_type_id)
            fee = booking.cancel(by, now, booking_type.policy)
            if booking.package_id is not None and not fee:
                uow.packages.get(booking.package_id).release(booking.id)
            invoices = _charge(
                uow,
                school,
                booking,
                InvoiceService.CANCELLATION_FEE,
                lambda language: line_text("late_cancellation", language, booking_type.name),
                fee,
                now,
            )
            close_deposit(uow, school, booking, invoices, now)
            for student_id in booking.student_ids:
                student = uow.students.get(student_id)
                context = {
                    **booking_context(uow, school, booking),
                    "fee": money(fee, student.language) if fee else "",
                }
                queue_message(uow, school, student, MessageType.CANCELLATION, context, now)
            uow.commit()
        return BookingOutcome(booking, tuple(invoices))

    def complete(self, school_id: str, booking_id: str) -> BookingOutcome:
        """The lesson took place: invoice it, unless a package paid for it."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking_type = uow.booking_types.get(booking.booking_type_id)
            booking.complete(now)
            invoices = _charge(
                uow,
                school,
                booking,
                InvoiceService.LESSON,
                lambda language: f"{booking_type.name} {_day(school, booking, language)}",
                booking.price,
                now,
            )
            close_deposit(uow, school, booking, invoices, now)
            uow.commit()
        return BookingOutcome(booking, tuple(invoices))

    def mark_no_show(self, school_id: str, booking_id: str) -> BookingOutcome:
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            booking = in_school(uow.bookings.get(booking_id), school.id, "booking")
            booking_type = uow.booking_types.get(booking.booking_type_id)
            fee = booking.mark_no_show(now, booking_type.policy)
            invoices = _charge(
                uow,
                school,
                booking,
                InvoiceService.NO_SHOW_FEE,
                lambda language: line_text(
                    "no_show", language, f"{booking_type.name} {_day(school, booking, language)}"
                ),
                fee,
                now,
            )
            close_deposit(uow, school, booking, invoices, now)
            uow.commit()
        return BookingOutcome(booking, tuple(invoices))


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
        for student_id in booking.student_ids:
            if any(i.is_overdue(now) for i in uow.invoices.for_student(school.id, student_id)):
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


def _charge(
    uow: UnitOfWork,
    school: School,
    booking: Booking,
    service: InvoiceService,
    describe: Callable[[str], str],
    price: Money | None,
    now: datetime,
) -> list[Invoice]:
    """One invoice per student for `price`; nothing when there is nothing to pay. The line's
    text is `describe(language)` in the student's language, the language of the invoice.

    A package lesson is never invoiced: its credit pays for the lesson, or for the fee of a
    late cancellation or no-show (the credit is kept instead of given back).
    """
    if price is None or not price.is_positive or booking.package_id is not None:
        return []
    lesson_day = school.local_time(booking.slot.start).date()
    invoices = []
    for student_id in booking.student_ids:
        language = uow.students.get(student_id).language
        item = line(school, service, describe(language), price)
        delivered_on = None if service is InvoiceService.CANCELLATION_FEE else lesson_day
        invoices.append(
            invoice_lines(
                uow,
                school,
                student_id,
                [item],
                now,
                booking_id=booking.id,
                delivered_on=delivered_on,
            )
        )
    return invoices


def _day(school: School, booking: Booking, language: str) -> str:
    return day_and_time(booking.slot.start, school.timezone, language)

"""Lesson package use cases: sell a package (invoiced at once) whose credits bookings consume."""

from __future__ import annotations

from datetime import timedelta

from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import BookingTypeId, PackageId, StudentId, new_id
from justdriving.domain.invoices import Invoice
from justdriving.domain.moments import shifted
from justdriving.domain.money import Money
from justdriving.domain.packages import LessonPackage
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.steps.billing import in_school, invoice_lines, line
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class Packages:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def sell_package(
        self,
        school_id: str,
        student_id: str,
        *,
        booking_type_id: str,
        lessons: int,
        price: Money,
        valid_for: timedelta | None = None,
    ) -> tuple[LessonPackage, Invoice]:
        """Create the package and its invoice; the credits become usable once it is paid."""
        now = self._clock.now()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            booking_type = in_school(
                uow.booking_types.get(booking_type_id), school.id, "booking type"
            )
            if valid_for is not None and valid_for <= timedelta(0):
                raise InvalidInput("a package is valid for a positive time")
            package = LessonPackage(
                id=PackageId(new_id("pkg")),
                school_id=school.id,
                student_id=StudentId(student.id),
                booking_type_id=BookingTypeId(booking_type.id),
                lessons=lessons,
                price=price,
                single_lesson_price=booking_type.price,
                expires_at=shifted(now, valid_for) if valid_for else None,
            )
            uow.packages.add(package)
            item = line(school, InvoiceService.PACKAGE, f"{lessons} x {booking_type.name}", price)
            invoice = invoice_lines(
                uow, school, package.student_id, [item], now, package_id=package.id
            )
            uow.commit()
        return package, invoice

"""What a booking's new status means for its students, invoices, package and deposit: the
reactions to the booking's events (registered in `reactions.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from justdriving.domain.bookings import Booking
from justdriving.domain.charges import ChargeKind
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRescheduled,
)
from justdriving.domain.formatting import day_and_time, line_text, money
from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.schools import InvoiceService, MessageType, School
from justdriving.domain.services.steps.billing import invoice_lines, line
from justdriving.domain.services.steps.deposits import close_deposit
from justdriving.domain.services.steps.lessons import booking_context
from justdriving.domain.services.steps.messages import queue_message
from justdriving.ports.persistence import UnitOfWork


def booking_confirmed(uow: UnitOfWork, event: BookingConfirmed, now: datetime) -> None:
    """Tell each student the lesson is confirmed."""
    booking, school = _loaded(uow, event.booking_id)
    _tell_students(uow, school, booking, MessageType.BOOKING_CONFIRMATION, {}, now)


def booking_rescheduled(uow: UnitOfWork, event: BookingRescheduled, now: datetime) -> None:
    """Tell each student the lesson's new time."""
    booking, school = _loaded(uow, event.booking_id)
    _tell_students(uow, school, booking, MessageType.BOOKING_CHANGE, {}, now)


def booking_cancelled(uow: UnitOfWork, event: BookingCancelled, now: datetime) -> None:
    """Give back the package credit of a free cancellation, invoice a late one's fee, close
    the deposit against that fee (or give it back), and tell each student."""
    booking, school = _loaded(uow, event.booking_id)
    booking_type = uow.booking_types.get(booking.booking_type_id)
    if booking.package_id is not None and not event.fee:
        uow.packages.get(booking.package_id).release(booking.id)
    invoices = _charge(
        uow,
        school,
        booking,
        InvoiceService.CANCELLATION_FEE,
        lambda language: line_text("late_cancellation", language, booking_type.name),
        event.fee,
        now,
    )
    close_deposit(uow, booking, invoices, now)
    _charge_fees(uow, school, invoices, ChargeKind.LATE_CANCELLATION_FEE, booking.id, now)
    for student_id in booking.student_ids:
        student = uow.students.get(student_id)
        context = {
            **booking_context(uow, school, booking),
            "fee": money(event.fee, student.language) if event.fee else "",
        }
        queue_message(uow, school, student, MessageType.CANCELLATION, context, now)


def booking_completed(uow: UnitOfWork, event: BookingCompleted, now: datetime) -> None:
    """Invoice the lesson (unless a package paid for it) and count the deposit against it."""
    booking, school = _loaded(uow, event.booking_id)
    booking_type = uow.booking_types.get(booking.booking_type_id)
    invoices = _charge(
        uow,
        school,
        booking,
        InvoiceService.LESSON,
        lambda language: f"{booking_type.name} {_day(school, booking, language)}",
        booking.price,
        now,
    )
    close_deposit(uow, booking, invoices, now)


def booking_marked_no_show(uow: UnitOfWork, event: BookingMarkedNoShow, now: datetime) -> None:
    """Invoice the no-show fee (unless a package's credit pays it) and close the deposit."""
    booking, school = _loaded(uow, event.booking_id)
    booking_type = uow.booking_types.get(booking.booking_type_id)
    invoices = _charge(
        uow,
        school,
        booking,
        InvoiceService.NO_SHOW_FEE,
        lambda language: line_text(
            "no_show", language, f"{booking_type.name} {_day(school, booking, language)}"
        ),
        booking.fee,
        now,
    )
    close_deposit(uow, booking, invoices, now)
    _charge_fees(uow, school, invoices, ChargeKind.NO_SHOW_FEE, booking.id, now)


def _charge_fees(
    uow: UnitOfWork,
    school: School,
    invoices: list[Invoice],
    kind: ChargeKind,
    booking_id: str,
    now: datetime,
) -> None:
    """With the school's say-so, each fee's invoice is charged to the student's saved card by
    the relay (which, finding no saved card or the invoice paid meanwhile, leaves it as
    invoiced). A booking whose deposit is held or taken pays its fee from the deposit first:
    its invoice is left to it, never charged twice."""
    if not school.settings.charge_fees_to_saved_card:
        return
    deposit = uow.deposits.for_booking(booking_id)
    if deposit is not None and deposit.status in (DepositStatus.SECURED, DepositStatus.SETTLED):
        return
    for invoice in invoices:
        uow.outbox.add(
            OutboxMessage.queued(
                school.id,
                OutboxKind.CHARGE_CUSTOMER,
                {"invoice_id": invoice.id, "kind": kind.value, "reference": booking_id},
                f"charge-fee-{invoice.id}",
                now,
            )
        )


def _loaded(uow: UnitOfWork, booking_id: str) -> tuple[Booking, School]:
    booking = uow.bookings.get(booking_id)
    return booking, uow.schools.get(booking.school_id)


def _tell_students(
    uow: UnitOfWork,
    school: School,
    booking: Booking,
    kind: MessageType,
    extra: dict[str, str],
    now: datetime,
) -> None:
    context = {**booking_context(uow, school, booking), **extra}
    for student_id in booking.student_ids:
        queue_message(uow, school, uow.students.get(student_id), kind, context, now)


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

"""Scheduled reminders: lessons coming up, invoices overdue (up the school's dunning ladder).
Decided from the database, so a restarted worker neither skips nor repeats one."""

from __future__ import annotations

from datetime import datetime, timedelta

from attrs import define

from justdriving.domain.bookings import Booking
from justdriving.domain.dunning import DueStep
from justdriving.domain.formatting import day, money
from justdriving.domain.invoices import Invoice
from justdriving.domain.messages import Channel
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.notifications import queue_message
from justdriving.domain.services.settlement import booking_context
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

_LONGEST_LEAD = timedelta(days=14)  # no school reminds further ahead than this


@define
class ReminderReport:
    lessons: int = 0
    overdue_invoices: int = 0


class Reminders:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def send_due(self) -> ReminderReport:
        """Queue every reminder that is due now and was not decided before."""
        report = ReminderReport()
        report.lessons = self._lesson_reminders()
        report.overdue_invoices = self._overdue_reminders()
        return report

    def _lesson_reminders(self) -> int:
        """Reminders decided, one per lesson and channel."""
        now = self._clock.now()
        count = 0
        with self._uow() as uow:
            schools: dict[str, School] = {}
            for booking in uow.bookings.starting_between(now, now + _LONGEST_LEAD):
                if booking.school_id not in schools:
                    schools[booking.school_id] = uow.schools.get(booking.school_id)
                count += _remind(uow, schools[booking.school_id], booking, now)
            uow.commit()
        return count

    def _overdue_reminders(self) -> int:
        """Invoices reminded of: each at the next step of its school's dunning ladder."""
        now = self._clock.now()
        count = 0
        with self._uow() as uow:
            for invoice in uow.invoices.overdue(now):
                school = uow.schools.get(invoice.school_id)
                step = invoice.dunning_due(school.settings.dunning_ladder, now)
                if step is None:
                    continue
                invoice.record_dunning(step, now)
                student = uow.students.get(invoice.student_id)
                context = _dunning_context(school, invoice, step, student.language)
                queue_message(uow, school, student, MessageType.OVERDUE_REMINDER, context, now)
                count += 1
            uow.commit()
        return count


def _dunning_context(
    school: School, invoice: Invoice, step: DueStep, language: str
) -> dict[str, object]:
    settings = school.settings
    blocked = settings.block_booking_when_overdue and (
        step.days_overdue >= settings.block_booking_overdue_days
    )
    assert invoice.due_at is not None
    return {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number or "",
        "amount": money(invoice.outstanding, language),
        "due": day(invoice.due_at, school.timezone, language),
        "days_overdue": step.days_overdue,
        "tone": step.step.tone.value,
        "booking_blocked": blocked,
    }


def _remind(uow: UnitOfWork, school: School, booking: Booking, now: datetime) -> int:
    leads = {
        Channel.SMS: timedelta(hours=school.settings.sms_reminder_hours_before),
        Channel.EMAIL: timedelta(hours=school.settings.email_reminder_hours_before),
    }
    count = 0
    for channel, ahead in leads.items():
        if not booking.reminder_due(channel.value, ahead, now):
            continue
        booking.record_reminder(channel.value)
        context = booking_context(uow, school, booking)
        for student_id in booking.student_ids:
            student = uow.students.get(student_id)
            only = frozenset({channel})
            queue_message(uow, school, student, MessageType.REMINDER, context, now, only)
        count += 1
    return count

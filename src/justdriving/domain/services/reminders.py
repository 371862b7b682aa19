"""Scheduled reminders: lessons coming up, invoices overdue (up the school's dunning ladder).
Decided from the database, so a restarted worker neither skips nor repeats one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import define

from justdriving.domain.bookings import Booking, ReminderWindow
from justdriving.domain.dunning import DueStep
from justdriving.domain.formatting import day, money
from justdriving.domain.invoices import Invoice
from justdriving.domain.messages import Channel
from justdriving.domain.schools import MessageType, School
from justdriving.domain.services.steps.alerts import raise_alert
from justdriving.domain.services.steps.lessons import booking_context
from justdriving.domain.services.steps.messages import queue_message
from justdriving.domain.staff_alerts import AlertKind
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
            schools = {school.id: school for school in uow.schools.list()}
            for booking in uow.bookings.awaiting_reminder(now, _windows(schools.values())):
                if booking.slot.start < now + _LONGEST_LEAD:
                    count += _remind(uow, schools[booking.school_id], booking, now)
            uow.commit()
        return count

    def _overdue_reminders(self) -> int:
        """Invoices reminded of: each at the next step of its school's dunning ladder."""
        now = self._clock.now()
        count = 0
        with self._uow() as uow:
            schools: dict[str, School] = {}
            for invoice in uow.invoices.overdue(now):
                if invoice.school_id not in schools:
                    schools[invoice.school_id] = uow.schools.get(invoice.school_id)
                school = schools[invoice.school_id]
                step = invoice.dunning_due(school.settings.dunning_ladder, now)
                if step is None:
                    continue
                was_blocked = _blocked_at_last_step(school, invoice)
                invoice.record_dunning(step, now)
                student = uow.students.get(invoice.student_id)
                context = _dunning_context(school, invoice, step, student.language)
                queue_message(uow, school, student, MessageType.OVERDUE_REMINDER, context, now)
                if context["booking_blocked"] and not was_blocked:  # the staff told once
                    facts = {"student": student.name, "number": invoice.number or ""}
                    path = f"/ops/invoices/{invoice.id}"
                    kind = AlertKind.STUDENT_BLOCKED
                    raise_alert(uow, school, kind, path, now, days=step.days_overdue, **facts)
                count += 1
            uow.commit()
        return count


def _blocked_at_last_step(school: School, invoice: Invoice) -> bool:
    """Whether the last reminder sent already told of the booking block."""
    settings, sent = school.settings, invoice.dunning_steps_sent
    if not settings.block_booking_when_overdue or sent == 0:
        return False
    ladder = settings.dunning_ladder
    last = ladder[min(sent, len(ladder)) - 1]
    return last.after_days >= settings.block_booking_overdue_days


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


def _leads(school: School) -> dict[Channel, timedelta]:
    return {
        Channel.SMS: timedelta(hours=school.settings.sms_reminder_hours_before),
        Channel.EMAIL: timedelta(hours=school.settings.email_reminder_hours_before),
    }


def _windows(schools: Iterable[School]) -> list[ReminderWindow]:
    """One window per channel and lead (capped at the longest), over the schools that use it;
    a lead of 0 hours never falls due before the lesson starts, so it has none."""
    grouped: dict[tuple[str, timedelta], set[str]] = {}
    for school in schools:
        for channel, ahead in _leads(school).items():
            if ahead > timedelta(0):
                key = (channel.value, min(ahead, _LONGEST_LEAD))
                grouped.setdefault(key, set()).add(school.id)
    return [
        ReminderWindow(channel, ahead, frozenset(ids))
        for (channel, ahead), ids in sorted(grouped.items())
    ]


def _remind(uow: UnitOfWork, school: School, booking: Booking, now: datetime) -> int:
    count = 0
    for channel, ahead in _leads(school).items():
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

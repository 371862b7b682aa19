"""What providers tell us about messages, applied by the inbox and by the message webhooks:
delivery receipts update the message log, opt-outs and hard bounces go on the suppression
list, a STOP/START/HELP reply is answered, and a teacher's "SYG" (sick) reply is routed by the
sender's number to the teacher, in every school where that number is an active teacher's,
handled as the school decided: with `SickReport.CANCEL_DAY`, the rest of the teacher's day is
cancelled as the teacher's cancellation (no fee; each student told by the cancellation's
reactions).
"""

from __future__ import annotations

from datetime import datetime

from justdriving.domain.bookings import CancelledBy
from justdriving.domain.delivery import (
    DeliveryReceipt,
    InboundSms,
    Keyword,
    Suppression,
    SuppressionReason,
)
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.people import PhoneNumber, Teacher
from justdriving.domain.schools import MessageType, School, SickReport
from justdriving.domain.services.steps.messages import queue_message
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


def apply_receipt(uow: UnitOfWork, receipt: DeliveryReceipt, now: datetime) -> bool:
    """Record a provider's receipt on our message; False when no message of ours matches."""
    message = _message_for(uow, receipt)
    if message is None:
        return False
    _apply(uow, message, receipt, now)
    return True


def apply_inbound_sms(uow: UnitOfWork, sms: InboundSms, now: datetime) -> None:
    """STOP suppresses the sender, START lifts that, HELP queues the school's contact, SYG
    from a teacher's number does what the teacher's school decided (`SickReport`)."""
    address = sms.sender.e164
    if sms.keyword is Keyword.STOP:
        uow.suppressions.add(
            Suppression(
                id="",
                channel=Channel.SMS,
                address=address,
                reason=SuppressionReason.OPTED_OUT,
                created_at=now,
            )
        )
    elif sms.keyword is Keyword.START:
        found = uow.suppressions.find_key(Channel.SMS.value, address, None)
        if found is not None:
            found.lift(now)
    elif sms.keyword is Keyword.HELP:
        _answer_help(uow, address, now)
    elif sms.keyword is Keyword.SICK:
        report_sick(uow, sms.sender, now)


def _message_for(uow: UnitOfWork, receipt: DeliveryReceipt) -> OutboundMessage | None:
    if receipt.provider_message_id is not None:
        found = uow.messages.by_provider_ref(receipt.provider, receipt.provider_message_id)
        if found is not None:
            return found
    return uow.messages.find(receipt.reference) if receipt.reference else None


def _apply(
    uow: UnitOfWork, message: OutboundMessage, receipt: DeliveryReceipt, now: datetime
) -> None:
    if message.status is MessageStatus.QUEUED and receipt.provider_message_id:
        # The send's answer was lost (a timeout), but the provider did send it.
        message.provider, message.provider_message_id = (
            receipt.provider,
            receipt.provider_message_id,
        )
    error = f"{receipt.provider} error {receipt.error_code}" if receipt.error_code else None
    message.record_delivery(receipt.status, receipt.occurred_at, error)
    if receipt.suppress:
        reason = (
            SuppressionReason.OPTED_OUT
            if message.channel is Channel.SMS
            else SuppressionReason.HARD_BOUNCE
        )
        uow.suppressions.add(
            Suppression(
                id="",
                channel=message.channel,
                address=str(message.recipient),
                reason=reason,
                created_at=now,
            )
        )


def _answer_help(uow: UnitOfWork, address: str, now: datetime) -> None:
    last = uow.messages.latest_to(Channel.SMS.value, address)
    if last is None:
        return  # not someone we wrote to: nothing to say on a school's behalf
    school = uow.schools.get(last.school_id)
    students = [
        s for s in uow.students.for_school(school.id) if s.phone and s.phone.e164 == address
    ]
    if not students:
        return
    contact = school.contact_phone or school.contact_email or school.name
    queue_message(
        uow,
        school,
        students[0],
        MessageType.HELP_REPLY,
        {"contact": contact},
        now,
        channels=frozenset({Channel.SMS}),
    )

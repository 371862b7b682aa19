"""What a school sends: the message types, and which of them are the students', the teachers'
and the ones someone asked for."""

from __future__ import annotations

import enum


class MessageType(enum.StrEnum):
    BOOKING_CONFIRMATION = "booking_confirmation"
    REMINDER = "reminder"
    BOOKING_CHANGE = "booking_change"
    CANCELLATION = "cancellation"
    PAYMENT_RECEIPT = "payment_receipt"
    INVOICE_ISSUED = "invoice_issued"
    OVERDUE_REMINDER = "overdue_reminder"
    REFUND_CONFIRMATION = "refund_confirmation"
    ANNOUNCEMENT = "announcement"
    HELP_REPLY = "help_reply"  # the answer to an SMS "HELP": who the school is, how to reach it
    # A charge to a saved card needs the student: their bank asks them to confirm it.
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    # A charge to a saved card was declined: the invoice's pay link (a retry may follow).
    PAYMENT_DECLINED = "payment_declined"
    # The saved card expires before it is next charged: a link to save a new one.
    CARD_EXPIRING = "card_expiring"
    # To the lesson's teacher, under the school's teacher toggles and teacher quiet hours.
    TEACHER_BOOKING = "teacher_booking"  # a lesson booked with them (confirmed)
    TEACHER_CHANGE = "teacher_change"  # one of their lessons moved
    TEACHER_CANCELLATION = "teacher_cancellation"  # cancelled, by whom
    TEACHER_NO_SHOW = "teacher_no_show"  # a no-show recorded on their lesson
    TEACHER_ANNOUNCEMENT = "teacher_announcement"  # the school's announcement to its teachers
    TEACHER_AGENDA = "teacher_agenda"  # the day's lessons, at the school's agenda hour
    # Asked for by a person or sent by the host application: the school's toggles do not apply.
    WELCOME = "welcome"
    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a message type, not a password)
    NOTICE = "notice"  # any other host message: its own template is named on the message
    # To the school's office: the alerts waiting for it, in one digest.
    STAFF_ALERT = "staff_alert"

    @property
    def urgent(self) -> bool:
        """Urgent messages go out in quiet hours too: the lesson they concern may be close."""
        return self in _URGENT

    @property
    def for_teachers(self) -> bool:
        """Sent to a teacher: the school's teacher toggles and teacher quiet hours apply."""
        return self in TEACHER_MESSAGE_TYPES

    @property
    def requested(self) -> bool:
        """An account or host message (welcome, verification, password reset, notice): someone
        asked for it, so the school's per-type toggles do not hold it back."""
        return self in ACCOUNT_MESSAGE_TYPES


_URGENT = frozenset(
    {
        MessageType.BOOKING_CONFIRMATION,
        MessageType.BOOKING_CHANGE,
        MessageType.CANCELLATION,
        MessageType.HELP_REPLY,
        MessageType.TEACHER_CHANGE,
        MessageType.TEACHER_CANCELLATION,
        MessageType.EMAIL_VERIFICATION,
        MessageType.PASSWORD_RESET,
    }
)
TEACHER_MESSAGE_TYPES = frozenset(
    {
        MessageType.TEACHER_BOOKING,
        MessageType.TEACHER_CHANGE,
        MessageType.TEACHER_CANCELLATION,
        MessageType.TEACHER_NO_SHOW,
        MessageType.TEACHER_ANNOUNCEMENT,
        MessageType.TEACHER_AGENDA,
    }
)
ACCOUNT_MESSAGE_TYPES = frozenset(
    {
        MessageType.WELCOME,
        MessageType.EMAIL_VERIFICATION,
        MessageType.PASSWORD_RESET,
        MessageType.NOTICE,
        MessageType.STAFF_ALERT,
    }
)
STUDENT_MESSAGE_TYPES = frozenset(MessageType) - TEACHER_MESSAGE_TYPES - ACCOUNT_MESSAGE_TYPES

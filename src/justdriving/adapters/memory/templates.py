"""A minimal template renderer on string.Template, with short Danish and English defaults."""

from __future__ import annotations

import html
from collections.abc import Mapping
from string import Template
from typing import Any

from attrs import frozen

from justdriving.domain.errors import NotFound
from justdriving.domain.messages import Channel
from justdriving.domain.schools import MessageType
from justdriving.ports.messaging import RenderedMessage


@frozen
class MessageTemplate:
    """`$name` placeholders; unknown ones are left as they are (safe_substitute)."""

    subject: str
    text: str
    html: str | None = None


TemplateKey = tuple[str, Channel, str]  # (template name: a MessageType's value, ...)

# (subject, what to say) per message type and language; the channel adds greeting and signature.
_WORDING: dict[str, dict[MessageType, tuple[str, str]]] = {
    "en": {
        MessageType.BOOKING_CONFIRMATION: (
            "Your lesson is booked",
            "Your lesson $lesson with $teacher_name is booked for $start.",
        ),
        MessageType.REMINDER: (
            "Lesson reminder",
            "Reminder: $lesson with $teacher_name at $start.",
        ),
        MessageType.BOOKING_CHANGE: ("Your lesson has moved", "Your lesson is now at $start."),
        MessageType.CANCELLATION: (
            "Your lesson is cancelled",
            "Your lesson at $start has been cancelled.",
        ),
        MessageType.PAYMENT_RECEIPT: (
            "Payment received",
            "We have received your payment of $amount.",
        ),
        MessageType.INVOICE_ISSUED: (
            "Invoice $invoice_number",
            "Invoice $invoice_number for $amount is ready.",
        ),
        MessageType.OVERDUE_REMINDER: (
            "Invoice $invoice_number is overdue",
            "Invoice $invoice_number is overdue: $amount is still unpaid.",
        ),
        MessageType.REFUND_CONFIRMATION: ("Refund on its way", "We have refunded $amount to you."),
        MessageType.PAYMENT_ACTION_REQUIRED: (
            "Please confirm your payment for invoice $invoice_number",
            "Your bank wants you to confirm the payment of $amount for invoice $invoice_number.",
        ),
        MessageType.PAYMENT_DECLINED: (
            "Your card was declined for invoice $invoice_number",
            "Your card was declined for $amount on invoice $invoice_number.",
        ),
        MessageType.CARD_EXPIRING: (
            "Your card ending $last4 expires soon",
            "Your card ending $last4 expires $expiry. Save a new card: $card_url",
        ),
        MessageType.ANNOUNCEMENT: ("News from $school_name", "$message"),
        MessageType.HELP_REPLY: (
            "$school_name",
            "$school_name: reach us at $contact. Reply STOP to stop texts.",
        ),
        MessageType.TEACHER_BOOKING: (
            "New lesson: $lesson on $start",
            "New lesson: $lesson with $student_names on $start.",
        ),
        MessageType.TEACHER_CHANGE: (
            "Moved: $lesson now on $start",
            "Moved: $lesson with $student_names is now on $start.",
        ),
        MessageType.TEACHER_CANCELLATION: (
            "Cancelled: $lesson on $start",
            "Cancelled by the $cancelled_by: $lesson with $student_names on $start.",
        ),
        MessageType.TEACHER_NO_SHOW: (
            "No-show recorded: $lesson on $start",
            "No-show recorded: $student_names, $lesson on $start.",
        ),
        MessageType.TEACHER_ANNOUNCEMENT: ("News from $school_name", "$message"),
        MessageType.TEACHER_AGENDA: (
            "Your lessons on $day: $lesson_count",
            "Your $lesson_count lesson(s) on $day.",
        ),
        MessageType.WELCOME: ("Welcome to $school_name", "Welcome to $school_name."),
        MessageType.EMAIL_VERIFICATION: (
            "Confirm your email address",
            "Confirm your email address: $verify_url",
        ),
        MessageType.PASSWORD_RESET: ("Reset your password", "Reset your password: $reset_url"),
        MessageType.NOTICE: ("$subject", "$message"),
        MessageType.STAFF_ALERT: (
            "$alert_count things to look at in $school_name",
            "$alert_count things wait for you on the ops page.",
        ),
    },
    "da": {
        MessageType.BOOKING_CONFIRMATION: (
            "Din køretime er booket",
            "Din køretime $lesson med $teacher_name er booket til $start.",
        ),
        MessageType.REMINDER: (
            "Påmindelse om køretime",
            "Påmindelse: $lesson med $teacher_name kl. $start.",
        ),
        MessageType.BOOKING_CHANGE: ("Din køretime er flyttet", "Din køretime er nu $start."),
        MessageType.CANCELLATION: ("Din køretime er aflyst", "Din køretime $start er aflyst."),
        MessageType.PAYMENT_RECEIPT: (
            "Betaling modtaget",
            "Vi har modtaget din betaling på $amount.",
        ),
        MessageType.INVOICE_ISSUED: (
            "Faktura $invoice_number",
            "Faktura $invoice_number på $amount er klar.",
        ),
        MessageType.OVERDUE_REMINDER: (
            "Faktura $invoice_number er forfalden",
            "Faktura $invoice_number er forfalden: $amount mangler at blive betalt.",
        ),
        MessageType.REFUND_CONFIRMATION: (
            "Tilbagebetaling på vej",
            "Vi har tilbagebetalt $amount til dig.",
        ),
        MessageType.PAYMENT_ACTION_REQUIRED: (
            "Godkend venligst din betaling for faktura $invoice_number",
            "Din bank vil have, at du godkender betalingen på $amount for faktura $invoice_number.",
        ),
        MessageType.PAYMENT_DECLINED: (
            "Dit kort blev afvist for faktura $invoice_number",
            "Dit kort blev afvist for $amount på faktura $invoice_number.",
        ),
        MessageType.CARD_EXPIRING: (
            "Dit kort, der slutter på $last4, udløber snart",
            "Dit kort, der slutter på $last4, udløber $expiry. Gem et nyt kort: $card_url",
        ),
        MessageType.ANNOUNCEMENT: ("Nyt fra $school_name", "$message"),
        MessageType.HELP_REPLY: (
            "$school_name",
            "$school_name: kontakt os på $contact. Svar STOP for at stoppe sms'er.",
        ),
        MessageType.TEACHER_BOOKING: (
            "Ny køretime: $lesson $start",
            "Ny lektion: $lesson med $student_names $start.",
        ),
        MessageType.TEACHER_CHANGE: (
            "Flyttet: $lesson er nu $start",
            "Flyttet: $lesson med $student_names er nu $start.",
        ),
        MessageType.TEACHER_CANCELLATION: (
            "Aflyst: $lesson $start",
            "Aflyst ($cancelled_by): $lesson med $student_names $start.",
        ),
        MessageType.TEACHER_NO_SHOW: (
            "Udeblivelse registreret: $lesson $start",
            "Udeblivelse: $student_names, $lesson $start.",
        ),
        MessageType.TEACHER_ANNOUNCEMENT: ("Nyt fra $school_name", "$message"),
        MessageType.TEACHER_AGENDA: (
            "Dine lektioner $day: $lesson_count",
            "Dine $lesson_count lektion(er) $day.",
        ),
        MessageType.WELCOME: ("Velkommen til $school_name", "Velkommen til $school_name."),
        MessageType.EMAIL_VERIFICATION: (
            "Bekræft din e-mailadresse",
            "Bekræft din e-mailadresse: $verify_url",
        ),
        MessageType.PASSWORD_RESET: (
            "Nulstil din adgangskode",
            "Nulstil din adgangskode: $reset_url",
        ),
        MessageType.NOTICE: ("$subject", "$message"),
        MessageType.STAFF_ALERT: (
            "$alert_count ting at se på i $school_name",
            "$alert_count ting venter på jer på driftssiden.",
        ),
    },
}
_GREETING = {"en": "Hi $recipient_name,", "da": "Hej $recipient_name,"}


def default_templates() -> dict[TemplateKey, MessageTemplate]:
    """A subject and text for every message type, channel and language (da, en)."""
    templates: dict[TemplateKey, MessageTemplate] = {}
    for language, wording in _WORDING.items():
        for type, (subject, said) in wording.items():
            templates[type, Channel.SMS, language] = MessageTemplate(
                subject, f"{said}\n$school_name"
            )
            email = f"{_GREETING[language]}\n\n{said}\n\n$school_name"
            templates[type, Channel.EMAIL, language] = MessageTemplate(subject, email)
    return templates


class MemoryTemplateRenderer:
    """Renders from a dict of templates; NotFound names a missing (type, channel, language)."""

    def __init__(self, templates: Mapping[TemplateKey, MessageTemplate] | None = None) -> None:
        self.templates = dict(default_templates() if templates is None else templates)

    def render(
        self, template_name: str, channel: Channel, language: str, context: Mapping[str, Any]
    ) -> RenderedMessage:
        type = str(template_name)
        template = self.templates.get((type, channel, language))
        if template is None:
            raise NotFound("template", f"{type}/{channel}/{language}")
        values = {key: str(value) for key, value in context.items()}
        # A subject is one line whatever the context holds.
        subject = " ".join(Template(template.subject).safe_substitute(values).split())
        text = Template(template.text).safe_substitute(values)
        markup = None
        if template.html is not None:
            escaped = {key: html.escape(value) for key, value in values.items()}
            markup = Template(template.html).safe_substitute(escaped)
        return RenderedMessage(subject=subject, text=text, html=markup)

"""Preparing an SMS or an email for the relay: render it, run it through the delivery policy,
attach what it needs (an invoice's PDF), and say what to call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen

from justdriving.domain.delivery_policy import DeliveryPolicy, Verdict
from justdriving.domain.messages import (
    Attachment,
    Channel,
    EmailMessage,
    MessageStatus,
    OutboundMessage,
    SendReceipt,
    SmsMessage,
)
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import DEFAULT_SMS_SEGMENTS, MessageType, School
from justdriving.domain.segments import segments
from justdriving.ports.clock import Clock
from justdriving.ports.documents import InvoicePdf, PayLinks
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.persistence import UnitOfWork


@frozen
class Job:
    """`provider` names the circuit the call goes through (e.g. `sms:twilio`)."""

    provider: str
    perform: Callable[[], Any]
    record: Callable[[UnitOfWork, Any, datetime], None]


@frozen
class Deferred:
    """Not now: try again at `until` (quiet hours, throttle); no attempt is counted."""

    until: datetime
    reason: str


Prepared = Job | Deferred | None  # None: nothing left to do
_BULK = frozenset({MessageType.ANNOUNCEMENT, MessageType.TEACHER_ANNOUNCEMENT})
_ABOUT_AN_INVOICE = frozenset(
    {
        MessageType.INVOICE_ISSUED,
        MessageType.OVERDUE_REMINDER,
        MessageType.PAYMENT_ACTION_REQUIRED,
        MessageType.PAYMENT_DECLINED,
    }
)


class MessageJobs:
    def __init__(
        self,
        *,
        sms: SmsSender,
        email: EmailSender,
        renderer: TemplateRenderer,
        policy: DeliveryPolicy,
        clock: Clock,
        invoice_pdf: InvoicePdf | None = None,
        pay_links: PayLinks | None = None,
    ) -> None:
        self._sms, self._email, self._renderer = sms, email, renderer
        self._policy, self._clock, self._pdf = policy, clock, invoice_pdf
        self._pay_links = pay_links

    def sms(self, uow: UnitOfWork, message_id: str) -> Prepared:
        message = uow.messages.get(message_id)
        if message.status is not MessageStatus.QUEUED:
            return None  # sent before a lost commit, or suppressed: nothing to do
        school = uow.schools.get(message.school_id)
        if self._settled(uow, message):
            return None
        to = self._decide(uow, message, school)
        if to is None or isinstance(to, Deferred):
            return to
        assert isinstance(to, PhoneNumber)
        pay_url = self._pay_url(uow, message)
        context = {**message.context, **({"pay_url": pay_url} if pay_url else {})}
        rendered = self._renderer.render(
            message.template_name, Channel.SMS, message.language, context
        )
        message.segments = segments(rendered.text).parts
        limit = school.settings.sms_max_segments.get(message.type, DEFAULT_SMS_SEGMENTS)
        if message.segments > limit:
            reason = f"too long for SMS: {message.segments} parts, at most {limit}"
            message.note(reason)
            message.mark_failed(reason, self._clock.now())
            return None
        sms = SmsMessage(
            body=rendered.text, reference=message.id, sender_id=school.settings.sender_id
        )
        return Job(f"sms:{self._sms.name}", lambda: self._sms.send(to, sms), _mark_sent(message.id))

    def email(self, uow: UnitOfWork, message_id: str) -> Prepared:
        message = uow.messages.get(message_id)
        if message.status is not MessageStatus.QUEUED:
            return None
        school = uow.schools.get(message.school_id)
        if self._settled(uow, message):
            return None
        to = self._decide(uow, message, school)
        if to is None or isinstance(to, Deferred):
            return to
        assert isinstance(to, EmailAddress)
        pay_url = self._pay_url(uow, message)
        attachments = self._attachments(uow, message, school, pay_url)
        context = {
            **message.context,
            "branding": school.settings.branding,
            "pdf_attached": bool(attachments),
        }
        if pay_url is not None:
            context["pay_url"] = pay_url
        rendered = self._renderer.render(
            message.template_name, Channel.EMAIL, message.language, context
        )
        email = EmailMessage(
            to=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            reference=message.id,
            bulk=message.type in _BULK,
            attachments=attachments,
            from_name=school.settings.email_from_name,
            reply_to=_reply_to(school),
        )
        return Job(
            f"email:{self._email.name}", lambda: self._email.send(email), _mark_sent(message.id)
        )

    def _decide(
        self, uow: UnitOfWork, message: OutboundMessage, school: School
    ) -> PhoneNumber | EmailAddress | Deferred | None:
        """The address to send to, or why not (the message records every decision)."""
        now = self._clock.now()
        address = str(message.recipient)
        suppression = uow.suppressions.matching(message.channel.value, address, school.id)
        decision = self._policy.decide(
            message,
            school,
            now,
            suppressed=suppression.reason.value if suppression is not None else None,
            sent_last_hour=uow.messages.count_sent_to(
                message.channel.value, address, now - timedelta(hours=1)
            ),
        )
        for note in decision.notes:
            message.note(note)
        if decision.verdict is Verdict.SUPPRESS:
            message.note(decision.reason)
            message.suppress(decision.reason, now)
            return None
        if decision.verdict is Verdict.DEFER:
            assert decision.until is not None
            message.defer(decision.until, decision.reason)
            return Deferred(decision.until, decision.reason)
        return decision.recipient

    def _settled(self, uow: UnitOfWork, message: OutboundMessage) -> bool:
        """An overdue reminder whose invoice was paid (or credited, or voided) after it was
        decided: suppressed, never sent — the payment may land between decision and send."""
        invoice_id = message.context.get("invoice_id")
        if message.type is not MessageType.OVERDUE_REMINDER or not invoice_id:
            return False
        invoice = uow.invoices.find(str(invoice_id))
        if invoice is not None and invoice.outstanding.is_positive:
            return False
        reason = "nothing is left to pay on the invoice: the reminder is not sent"
        message.note(reason)
        message.suppress(reason, self._clock.now())
        return True

    def _pay_url(self, uow: UnitOfWork, message: OutboundMessage) -> str | None:
        """The pay link of the invoice an invoice email or overdue reminder is about, while
        something is left to pay on it."""
        invoice_id = message.context.get("invoice_id")
        if self._pay_links is None or message.type not in _ABOUT_AN_INVOICE or not invoice_id:
            return None
        invoice = uow.invoices.find(str(invoice_id))
        if invoice is None or not invoice.outstanding.is_positive:
            return None
        return self._pay_links.for_invoice(invoice.id)

    def _attachments(
        self, uow: UnitOfWork, message: OutboundMessage, school: School, pay_url: str | None
    ) -> tuple[Attachment, ...]:
        invoice_id = message.context.get("invoice_id")
        if self._pdf is None or message.type is not MessageType.INVOICE_ISSUED or not invoice_id:
            return ()
        invoice = uow.invoices.get(str(invoice_id))
        student = uow.students.get(invoice.student_id)
        content = self._pdf.render(invoice, school, student, pay_url=pay_url)
        name = f"invoice-{invoice.number}.pdf"
        return (Attachment(filename=name, content_type="application/pdf", content=content),)


def _mark_sent(message_id: str) -> Callable[[UnitOfWork, Any, datetime], None]:
    def record(uow: UnitOfWork, receipt: SendReceipt, now: datetime) -> None:
        uow.messages.get(message_id).mark_sent(receipt, now)

    return record


def _reply_to(school: School) -> EmailAddress | None:
    """Where a reply goes: the school's chosen address (else the sender itself)."""
    reply_to = school.settings.email_reply_to
    return EmailAddress.parse(reply_to) if reply_to is not None else None

"""Outbound messages (SMS and email): what was decided, to whom, and what became of it."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import define, field, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import MessageId, SchoolId
from justdriving.domain.people import EmailAddress, PhoneNumber
from justdriving.domain.schools import MessageType

# A template's name: a plain lower-case word, so a name never reaches outside the template
# folders (and a leading underscore stays reserved for layouts).
TEMPLATE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def check_template_name(name: Any) -> None:
    """InvalidInput unless `name` is a template's name (`password_reset`, `order_shipped`)."""
    if not isinstance(name, str) or not TEMPLATE_NAME.match(name):
        raise InvalidInput("a template's name is a lower-case word: letters, digits, _")


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # decided not to send: opted out, disabled, not allowed here

    @property
    def rank(self) -> int:
        return _MESSAGE_RANK[self]


_MESSAGE_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
    MessageStatus.SUPPRESSED: 2,
}


@frozen
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@frozen
class SmsMessage:
    """What an SmsSender sends. `reference` is our message id, echoed in delivery receipts."""

    body: str
    reference: str
    sender_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.body.strip():
            raise InvalidInput("an SMS needs a body")


@frozen
class EmailMessage:
    """What an EmailSender sends: a text part always, HTML optional, attachments optional."""

    to: EmailAddress
    subject: str
    text: str
    reference: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: EmailAddress | None = None
    bulk: bool = False  # announcements carry List-Unsubscribe
    # The display name the email is from (the school's); None: the sender's configured one.
    from_name: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.subject.strip() or "\n" in self.subject or "\r" in self.subject:
            raise InvalidInput("an email needs a one-line subject")


@frozen
class SendReceipt:
    """A provider accepted the message; `provider_message_id` ties later receipts to it."""

    provider: str
    provider_message_id: str


@define(eq=False)
class OutboundMessage(Entity):
    """The log of one message: decided, sent, delivered or failed, with the provider's words."""

    id: MessageId
    school_id: SchoolId
    channel: Channel
    type: MessageType
    recipient: PhoneNumber | EmailAddress
    language: str
    context: Mapping[str, Any]
    created_at: datetime
    status: MessageStatus = MessageStatus.QUEUED
    provider: str | None = None
    provider_message_id: str | None = None
    provider_error: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime | None = None
    segments: int | None = None  # SMS parts billed, when known
    decisions: tuple[str, ...] = ()  # what the delivery policy decided, in order
    # Held back by the delivery policy (quiet hours, throttle) until then; still queued.
    deferred_until: datetime | None = None
    # The template it is rendered from when not its type's own: a host's template, sent as
    # MessageType.NOTICE (`send_template`).
    template: str | None = None
    version: int = 0

    @property
    def template_name(self) -> str:
        """The template to render: its own, or its type's."""
        return self.template or self.type.value

    def note(self, decision: str) -> None:
        """Record a delivery-policy decision (redirected, deferred, suppressed, ...)."""
        self.decisions = (*self.decisions, decision[:200])

    def defer(self, until: datetime, reason: str) -> None:
        """Not now (quiet hours, throttle): it waits, queued, until `until`."""
        self.note(reason)
        if self.status is MessageStatus.QUEUED:
            self.deferred_until = until

    @property
    def state(self) -> str:
        """What is true now: a queued message held back by the policy is "deferred"."""
        if self.status is MessageStatus.QUEUED and self.deferred_until is not None:
            return "deferred"
        return str(self.status)

    def mark_sent(self, receipt: SendReceipt, now: datetime) -> None:
        if self.status is MessageStatus.QUEUED:
            self.status, self.sent_at, self.updated_at = MessageStatus.SENT, now, now
            self.provider, self.provider_message_id = receipt.provider, receipt.provider_message_id
            self.deferred_until = None

    def record_delivery(
        self, status: MessageStatus, now: datetime, error: str | None = None
    ) -> bool:
        """A delivery receipt; only moves forward, so a late 'sent' never hides 'delivered'."""
        if status.rank <= self.status.rank:
            return False
        self.status, self.updated_at, self.deferred_until = status, now, None
        self.provider_error = error or self.provider_error
        return True

    def note_possible_duplicate(self, error: str) -> None:
        """An attempt failed in a way that may still have delivered it (a timeout)."""
        self.provider_error = f"an attempt may have gone out twice ({error})"

    def requeue(self, now: datetime) -> None:
        """An operator retries a failed message. A suppressed one stays suppressed: nobody
        who opted out or bounced is written to again by hand."""
        if self.status is MessageStatus.FAILED:
            self.status, self.updated_at = MessageStatus.QUEUED, now

    def mark_failed(self, error: str, now: datetime) -> None:
        self.record_delivery(MessageStatus.FAILED, now, error)

    def suppress(self, reason: str, now: datetime) -> None:
        self.record_delivery(MessageStatus.SUPPRESSED, now, reason)

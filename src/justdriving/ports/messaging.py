"""Messaging ports: send one SMS, send one email, render a message from its template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from attrs import frozen

from justdriving.domain.messages import Channel, EmailMessage, SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber


class SmsSender(Protocol):
    """Sends one SMS.

    Raises RecipientSuppressed (opted out), ProviderRejected (invalid number: do not retry),
    ProviderUnavailable (retry; `possibly_done` when the provider may already have sent it).
    Not idempotent at most providers: the relay decides whether a retry is safe.
    """

    name: str

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt: ...


class EmailSender(Protocol):
    """Sends one email; the same errors as SmsSender. `message.reference` is our message id."""

    name: str

    def send(self, message: EmailMessage) -> SendReceipt: ...


@frozen
class RenderedMessage:
    subject: str
    text: str
    html: str | None = None


class TemplateRenderer(Protocol):
    """Renders a template for a channel and language: a message type's own (a MessageType is
    its template's name) or one the host added. Raises NotFound for a missing template (or a
    name that is not a plain lower-case word), InvalidInput for a context that lacks a value
    the template needs."""

    def render(
        self, template: str, channel: Channel, language: str, context: Mapping[str, Any]
    ) -> RenderedMessage: ...

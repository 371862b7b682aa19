"""SMS and email senders in memory: recording what they sent, failing on demand."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from justdriving.adapters.memory.failures import FailureQueue
from justdriving.adapters.memory.templates import MemoryTemplateRenderer, MessageTemplate
from justdriving.domain.errors import ProviderRejected, RecipientSuppressed
from justdriving.domain.messages import EmailMessage, SendReceipt, SmsMessage
from justdriving.domain.people import EmailAddress, PhoneNumber

__all__ = [
    "FakeEmailSender",
    "FakeSmsSender",
    "MemoryTemplateRenderer",
    "MessageTemplate",
]

SMS_MAX_LENGTH = 1600  # what Twilio accepts; longer bodies are refused, not truncated
EMAIL_MAX_BYTES = 10 * 1024 * 1024


class FakeSmsSender:
    """Records every SMS in `.sent` as (recipient, message, receipt); ids fake_sms_1, 2, …"""

    def __init__(self, name: str = "fake", opted_out: Iterable[PhoneNumber] = ()) -> None:
        self.name = name
        self.sent: list[tuple[PhoneNumber, SmsMessage, SendReceipt]] = []
        self.opted_out: set[PhoneNumber] = set(opted_out)
        self._failures = FailureQueue()
        self._ids = itertools.count(1)

    def fail_next(self, error: Exception) -> None:
        self._failures.push(error)

    def opt_out(self, number: PhoneNumber) -> None:
        self.opted_out.add(number)

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        late = self._failures.take()
        if to in self.opted_out:
            raise RecipientSuppressed(
                self.name, f"{to.masked()} has opted out", provider_code="opted_out"
            )
        if len(message.body) > SMS_MAX_LENGTH:
            raise ProviderRejected(
                self.name, f"an SMS is at most {SMS_MAX_LENGTH} characters", provider_code="length"
            )
        receipt = SendReceipt(self.name, f"fake_sms_{next(self._ids)}")
        self.sent.append((to, message, receipt))
        if late is not None:
            raise late
        return receipt


class FakeEmailSender:
    """Records every email in `.sent` as (recipient, message, receipt); ids fake_email_1, 2, …"""

    def __init__(self, name: str = "fake", suppressed: Iterable[EmailAddress] = ()) -> None:
        self.name = name
        self.sent: list[tuple[EmailAddress, EmailMessage, SendReceipt]] = []
        self.suppressed: set[EmailAddress] = set(suppressed)
        self._failures = FailureQueue()
        self._ids = itertools.count(1)

    def fail_next(self, error: Exception) -> None:
        self._failures.push(error)

    def suppress(self, address: EmailAddress) -> None:
        """The address bounced hard, complained or unsubscribed."""
        self.suppressed.add(address)

    def send(self, message: EmailMessage) -> SendReceipt:
        late = self._failures.take()
        if message.to in self.suppressed:
            raise RecipientSuppressed(
                self.name, f"{message.to.masked()} is suppressed", provider_code="suppressed"
            )
        size = len(message.text) + len(message.html or "")
        size += sum(len(attachment.content) for attachment in message.attachments)
        if size > EMAIL_MAX_BYTES:
            raise ProviderRejected(self.name, "the email is too large", provider_code="size")
        receipt = SendReceipt(self.name, f"fake_email_{next(self._ids)}")
        self.sent.append((message.to, message, receipt))
        if late is not None:
            raise late
        return receipt

"""Twilio's status callbacks and incoming messages, verified and turned into domain values.

Twilio signs `X-Twilio-Signature` over the exact URL it called and the POST parameters. The URL
is rebuilt from PUBLIC_BASE_URL and the request's path and query, never from the request's own
Host or scheme, which a proxy in front of the app rewrites (and an attacker can choose).
Verification uses the SDK's RequestValidator; the web app hands over the path, the parsed form
and the headers, and stores what comes back in the inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from justdriving.adapters.sms.twilio.sender import REFERENCE_PARAMETER
from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    InvalidSignature,
    MalformedWebhook,
)
from justdriving.domain.messages import MessageStatus
from justdriving.domain.people import PhoneNumber

SIGNATURE_HEADER = "X-Twilio-Signature"
STATUSES = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}
# Codes meaning the recipient does not want our messages: unsubscribed (STOP), blocked.
SUPPRESSING_CODES = frozenset({"21610", "30004"})


class TwilioWebhooks:
    """Parses what Twilio POSTs to us; raises InvalidSignature or MalformedWebhook."""

    def __init__(self, auth_token: str, public_base_url: str, *, name: str = "twilio") -> None:
        problems = [
            setting
            for setting, value in (
                ("SMS_PROVIDER_SECRET (auth token)", auth_token),
                ("PUBLIC_BASE_URL", public_base_url),
            )
            if not value
        ]
        if problems:
            raise ConfigurationError(f"{name} webhooks are not configured", problems)
        self.name = name
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")

    def public_url(self, path: str) -> str:
        """The URL Twilio called: PUBLIC_BASE_URL followed by the path and query string."""
        return f"{self._base}/{path.lstrip('/')}"

    def parse_status(
        self, path: str, form: Mapping[str, str], headers: Mapping[str, str], now: datetime
    ) -> DeliveryReceipt:
        """A status callback for a message we sent (its URL carries our `ref`)."""
        self.verify(path, form, headers)
        return self.status_from(path, form, now)

    def status_from(self, path: str, form: Mapping[str, str], now: datetime) -> DeliveryReceipt:
        """The receipt in a verified status callback."""
        sid = _required(form, "MessageSid", "SmsSid")
        raw_status = _required(form, "MessageStatus", "SmsStatus").lower()
        error_code = form.get("ErrorCode") or None
        if error_code == "0":
            error_code = None
        references = parse_qs(urlsplit(path).query).get(REFERENCE_PARAMETER)
        return DeliveryReceipt(
            provider=self.name,
            event_id=f"{sid}:{raw_status}",
            provider_message_id=sid,
            # A status this table does not know yet still means Twilio has the message.
            status=STATUSES.get(raw_status, MessageStatus.SENT),
            occurred_at=now,  # Twilio's callback carries no time of its own
            error_code=error_code,
            reference=references[0] if references else None,
            suppress=error_code in SUPPRESSING_CODES,
        )

    def parse_inbound(
        self, path: str, form: Mapping[str, str], headers: Mapping[str, str], now: datetime
    ) -> InboundSms:
        """A message someone sent to our number (a reply, STOP, START, HELP …)."""
        self.verify(path, form, headers)
        return self.inbound_from(form, now)

    def inbound_from(self, form: Mapping[str, str], now: datetime) -> InboundSms:
        """The message in a verified incoming-message callback."""
        sid = _required(form, "MessageSid", "SmsMessageSid", "SmsSid")
        try:
            sender = PhoneNumber(_required(form, "From"))
        except InvalidPhoneNumber as error:
            raise MalformedWebhook("the sender is not an E.164 phone number") from error
        return InboundSms(
            provider=self.name,
            event_id=sid,
            sender=sender,
            to=form.get("To", ""),
            body=form.get("Body", ""),
            received_at=now,
        )

    def verify(self, path: str, form: Mapping[str, str], headers: Mapping[str, str]) -> None:
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
        if not self._validator.validate(self.public_url(path), dict(form), signature):
            raise InvalidSignature(f"{SIGNATURE_HEADER} does not match {self.public_url(path)}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _required(form: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = form.get(name)
        if value:
            return value
    raise MalformedWebhook(f"the Twilio form has no {names[0]}")

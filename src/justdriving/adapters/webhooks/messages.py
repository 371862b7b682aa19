"""SMS and email providers' callbacks on the one road in: Twilio, GatewayAPI, SendGrid, Mailgun.

Each receiver verifies with its provider's scheme and maps with its provider's tables (in the
provider's module); the loop, the bounds and the unknown events are the base's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from justdriving.adapters.webhooks.base import WebhookReceiverBase
from justdriving.domain.errors import MalformedWebhook
from justdriving.domain.inbound import InboundChannel, InboundEvent
from justdriving.ports.webhooks import Acknowledgement, WebhookRequest

if TYPE_CHECKING:  # each provider's module (and its SDK) is imported by the factory that uses it
    from justdriving.adapters.email.mailgun import MailgunWebhooks
    from justdriving.adapters.email.sendgrid import SendGridWebhooks
    from justdriving.adapters.sms.gatewayapi import GatewayApiWebhooks
    from justdriving.adapters.sms.twilio import TwilioWebhooks

# Twilio reads the answer to an inbound SMS as TwiML: an empty response sends no reply (our
# own HELP answer goes through the outbox like every other message).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_inbound(request: WebhookRequest) -> bool:
    """`/webhook/sms/<provider>/inbound` carries incoming messages; the rest are receipts."""
    return urlsplit(request.path).path.rstrip("/").endswith("/inbound")


class TwilioReceiver(WebhookReceiverBase):
    """Twilio posts form fields and signs the public URL plus the sorted fields (the scheme
    needs the form parsed first: bounded by the body limit, UTF-8 only)."""

    channel = InboundChannel.SMS

    def __init__(self, webhooks: TwilioWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedWebhook("the callback is not UTF-8 form data") from None
        form = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))
        self._webhooks.verify(request.path, form, request.headers)
        return form

    def map_item(
        self, item: Mapping[str, Any], verified: Any, request: WebhookRequest, now: datetime
    ) -> InboundEvent | None:
        if is_inbound(request):
            return self._webhooks.inbound_from(item, now)
        return self._webhooks.status_from(request.path, item, now)

    def acknowledgement(self, request: WebhookRequest) -> Acknowledgement | None:
        return Acknowledgement(EMPTY_TWIML, "text/xml") if is_inbound(request) else None


class GatewayApiReceiver(WebhookReceiverBase):
    """GatewayAPI signs a JWT in a header that carries the message's fields: verified with
    PyJWT before anything in it is read; the body is not what was signed and is not read."""

    channel = InboundChannel.SMS

    def __init__(self, webhooks: GatewayApiWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        return self._webhooks.verify(request.headers, now)

    def map_item(
        self, item: Mapping[str, Any], verified: Any, request: WebhookRequest, now: datetime
    ) -> InboundEvent | None:
        if is_inbound(request):
            return self._webhooks.inbound_from(item, now)
        return self._webhooks.status_from(item, now)


class SendGridReceiver(WebhookReceiverBase):
    """The ECDSA signature covers the timestamp and the raw body: checked before parsing."""

    channel = InboundChannel.EMAIL

    def __init__(self, webhooks: SendGridWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        self._webhooks.verify(request.body, request.headers, now)
        return request.body

    def items(self, verified: Any) -> Iterable[Mapping[str, Any]]:
        from justdriving.adapters.email.sendgrid import events as sendgrid_events

        return sendgrid_events.event_items(verified)

    def map_item(
        self, item: Mapping[str, Any], verified: Any, request: WebhookRequest, now: datetime
    ) -> InboundEvent | None:
        from justdriving.adapters.email.sendgrid import events as sendgrid_events

        return sendgrid_events.receipt_of(dict(item), self.name)

    def item_id(self, item: Mapping[str, Any]) -> str | None:
        value = item.get("sg_event_id")
        return value if isinstance(value, str) and value else None

    def item_type(self, item: Mapping[str, Any]) -> str | None:
        return str(item.get("event") or "") or None


class MailgunReceiver(WebhookReceiverBase):
    """The signature covers timestamp + token, which sit inside the JSON body: the scheme
    cannot be checked before parsing, so the body is parsed within the size and depth bounds,
    then verified, then its token spent (see mailgun/events.py for what that leaves open)."""

    channel = InboundChannel.EMAIL

    def __init__(self, webhooks: MailgunWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        return self._webhooks.verified_event(request.body, now)

    def map_item(
        self, item: Mapping[str, Any], verified: Any, request: WebhookRequest, now: datetime
    ) -> InboundEvent | None:
        from justdriving.adapters.email.mailgun import events as mailgun_events

        return mailgun_events.receipt_of(dict(item), self.name)

    def item_id(self, item: Mapping[str, Any]) -> str | None:
        value = item.get("id")
        return value if isinstance(value, str) and value else None

    def item_type(self, item: Mapping[str, Any]) -> str | None:
        return str(item.get("event") or "") or None

"""Twilio's and GatewayAPI's callback verifiers behind the SmsWebhooks port."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from justdriving.adapters.sms.gatewayapi_webhooks import GatewayApiWebhooks
from justdriving.adapters.sms.twilio_webhooks import TwilioWebhooks
from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import MalformedWebhook
from justdriving.ports.messaging import WebhookRequest


class TwilioCallbacks:
    """Twilio posts form fields and signs the public URL plus the sorted fields."""

    def __init__(self, webhooks: TwilioWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def status(self, request: WebhookRequest, now: datetime) -> DeliveryReceipt:
        return self._webhooks.parse_status(request.path, _form(request.body), request.headers, now)

    def inbound(self, request: WebhookRequest, now: datetime) -> InboundSms:
        return self._webhooks.parse_inbound(request.path, _form(request.body), request.headers, now)


class GatewayApiCallbacks:
    """GatewayAPI signs a JWT in a header that carries the message's fields."""

    def __init__(self, webhooks: GatewayApiWebhooks) -> None:
        self._webhooks = webhooks
        self.name = webhooks.name

    def status(self, request: WebhookRequest, now: datetime) -> DeliveryReceipt:
        return self._webhooks.parse_status(request.body, request.headers, now)

    def inbound(self, request: WebhookRequest, now: datetime) -> InboundSms:
        return self._webhooks.parse_inbound(request.body, request.headers, now)


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as error:
        raise MalformedWebhook("the callback is not UTF-8 form data") from error

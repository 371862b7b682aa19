"""Payment providers' webhooks: each gateway verifies its own scheme and maps its own events
(PaymentGateway.parse_webhook); this receiver puts them on the one road in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from justdriving.adapters.webhooks.base import WebhookReceiverBase
from justdriving.domain.inbound import InboundChannel, InboundEvent
from justdriving.ports.payments import PaymentGateway
from justdriving.ports.webhooks import WebhookRequest


class PaymentReceiver(WebhookReceiverBase):
    """`verify` is the gateway's: it checks the signature on the raw body before it parses,
    and raises UnusableWebhook itself for a signed event it cannot read."""

    channel = InboundChannel.PAYMENTS

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway
        self.name = gateway.name

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        return self._gateway.parse_webhook(request.body, request.headers, now)

    def translate(
        self, verified: Any, request: WebhookRequest, now: datetime
    ) -> Iterable[InboundEvent]:
        events: list[InboundEvent] = list(verified)
        return events

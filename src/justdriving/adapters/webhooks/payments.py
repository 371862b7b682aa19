"""Payment providers' webhooks: each gateway verifies its own scheme and maps its own events
(PaymentGateway.parse_webhook); this receiver puts them on the one road in.

A gateway that can verify now and read later (DeferredWebhooks) gets a DeferringPaymentReceiver:
with QUEUE_BACKEND=worker the request path only verifies and reads the event's id and type
(`admit`), and the worker translates the stored body (`read`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from justdriving.adapters.webhooks.base import PARSER_ERRORS, WebhookReceiverBase
from justdriving.adapters.webhooks.bounds import check_id, check_request
from justdriving.domain.errors import InvalidSignature, MalformedWebhook, UnusableWebhook
from justdriving.domain.inbound import InboundChannel, InboundEvent
from justdriving.ports.payments import DeferredWebhooks, PaymentGateway
from justdriving.ports.webhooks import WebhookHead, WebhookRequest


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


class DeferringPaymentReceiver(PaymentReceiver):
    """`receive` as PaymentReceiver's; `admit` and `read` split it in two (DeferredReceiver)."""

    def __init__(self, gateway: DeferredWebhooks) -> None:
        super().__init__(gateway)  # type: ignore[arg-type]
        self._deferred = gateway

    def admit(self, request: WebhookRequest, now: datetime) -> WebhookHead:
        check_request(request.path, request.body, request.headers)
        try:
            head = self._deferred.admit_webhook(request.body, request.headers, now)
        except (InvalidSignature, MalformedWebhook):
            raise
        except PARSER_ERRORS as error:
            raise MalformedWebhook(
                f"the request cannot be verified: {type(error).__name__}"
            ) from None
        try:
            check_id("event_id", head.event_id)
            check_id("raw_type", head.event_type)
        except MalformedWebhook as error:
            raise UnusableWebhook(str(error)) from None
        return head

    def read(self, body: bytes, now: datetime) -> list[InboundEvent]:
        try:
            return [self._bounded(event) for event in self._deferred.read_webhook(body)]
        except UnusableWebhook:
            raise
        except MalformedWebhook as error:
            raise UnusableWebhook(str(error)) from None
        except PARSER_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None


def payment_receiver(gateway: PaymentGateway) -> PaymentReceiver:
    """The receiver for `gateway`'s webhooks: deferring when the gateway can defer."""
    if isinstance(gateway, DeferredWebhooks):
        return DeferringPaymentReceiver(gateway)
    return PaymentReceiver(gateway)

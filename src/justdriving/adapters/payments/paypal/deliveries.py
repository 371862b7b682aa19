"""PayPal's webhook deliveries as the gateway takes them: PayPal itself verifies each one
(verify-webhook-signature, on the raw body), then its event is read (webhooks.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from justdriving.adapters.payments.paypal import webhooks as paypal_webhooks
from justdriving.adapters.payments.paypal.api import PayPalApi
from justdriving.adapters.payments.webhook_heads import READ_ERRORS, json_head
from justdriving.domain.errors import (
    InvalidInput,
    InvalidSignature,
    MalformedWebhook,
    PaymentDeclined,
    ProviderRejected,
    UnusableWebhook,
)
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.ports.webhooks import WebhookHead


class PayPalDeliveries:
    """The webhook verbs of the PayPal gateway, over its API client and webhook id."""

    name: str
    webhook_id: str
    _api: PayPalApi

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]:
        """Verify through PayPal's verify-webhook-signature, then translate.

        InvalidSignature: a header missing, a transmission time more than 300 s from `now`, a
        body that is not JSON, or PayPal's answer FAILURE. ProviderUnavailable when PayPal
        cannot be asked (answer 5xx so PayPal delivers again); ConfigurationError for bad
        credentials. MalformedWebhook: verified, but not an event of the documented shape.
        """
        self._verify_webhook(body, headers, now)
        return self.read_webhook(body)

    def admit_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> WebhookHead:
        self._verify_webhook(body, headers, now)
        return json_head(body, "id", "event_type")

    def read_webhook(self, body: bytes) -> list[ProviderPaymentEvent]:
        try:
            return [paypal_webhooks.parse_event(body, self.name)]
        except MalformedWebhook as error:  # signed, but not an event we can read
            raise UnusableWebhook(str(error)) from None
        except READ_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None

    def _verify_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> None:
        if now.utcoffset() is None:
            raise InvalidInput("now must be timezone-aware")
        delivery = paypal_webhooks.transmission(headers, now)
        paypal_webhooks.require_json(body)
        request = paypal_webhooks.verification_request(delivery, self.webhook_id, body)
        try:
            answer = self._api.call("POST", paypal_webhooks.VERIFY_PATH, raw=request)
        except (ProviderRejected, PaymentDeclined) as error:
            raise InvalidSignature(f"PayPal would not verify the delivery: {error}") from error
        if answer.get("verification_status") != "SUCCESS":
            raise InvalidSignature("PayPal did not verify the signature")

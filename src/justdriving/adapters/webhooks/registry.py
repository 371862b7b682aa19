"""The receivers configured here, found by the URL's channel and provider."""

from __future__ import annotations

from collections.abc import Iterable

from justdriving.adapters.webhooks.payments import payment_receiver
from justdriving.domain.errors import ConfigurationError, NotFound
from justdriving.domain.inbound import InboundChannel, school_route
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.webhooks import WebhookReceiver

KINDS = {"payments": "payment provider", "sms": "SMS provider", "email": "email provider"}


class Receivers:
    """Message receivers as configured; a payment receiver for each gateway the registry
    resolves by name (made on first use, as the gateway is)."""

    def __init__(
        self, receivers: Iterable[WebhookReceiver], gateways: GatewayRegistry | None = None
    ) -> None:
        self._by_key = {(r.channel.value, r.name): r for r in receivers}
        self._gateways = gateways

    def get(self, channel: str, provider: str) -> WebhookReceiver:
        """`provider` is a name, or for a school's own account `<name>/<school id>` (its
        webhook URL): that account's receiver, made anew so changed credentials count."""
        found = self._by_key.get((channel, provider))
        if found is None and channel == InboundChannel.PAYMENTS.value and self._gateways:
            name, school_id = school_route(provider)
            if school_id is not None:
                return payment_receiver(self._gateways.school_gateway(name, school_id))
            try:
                found = payment_receiver(self._gateways.by_name(provider))
            except ConfigurationError:
                found = None
            else:
                self._by_key[(channel, provider)] = found
        if found is None:
            raise NotFound(KINDS.get(channel, "webhook provider"), provider[:64])
        return found

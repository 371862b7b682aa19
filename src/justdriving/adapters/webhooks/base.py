"""The loop every receiver shares: bound the request, verify it, translate it item by item
through the provider's mapping tables, bound what comes out.

A provider supplies hooks: `verify` (on the raw request, before anything is parsed wherever
its scheme allows; returns what the translation reads), `items` (the provider's events in
the verified request) and `map_item` (one item through the mapping tables to the vocabulary
of domain.inbound, or None when no table knows it). An item no table knows is kept as an
UnknownEvent with the raw item. Anything but InvalidSignature or MalformedWebhook that a hook
raises is MalformedWebhook; after the signature held it is UnusableWebhook, so the delivery
can be acknowledged and kept as rejected instead of being sent again forever.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from justdriving.adapters.webhooks.bounds import check_id, check_request, check_text
from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import InvalidSignature, MalformedWebhook, UnusableWebhook
from justdriving.domain.inbound import InboundChannel, InboundEvent, UnknownEvent
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.ports.webhooks import Acknowledgement, WebhookRequest

# What a parser may raise on input it was not written for; each becomes MalformedWebhook.
PARSER_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    OSError,
    RecursionError,
    UnicodeError,
)
_ID_FIELDS = (
    "event_id",
    "payment_id",
    "provider_payment_id",
    "refund_id",
    "provider_refund_id",
    "provider_dispute_id",
    "provider_message_id",
    "reference",
    "raw_type",
)
_TEXT_FIELDS = ("error_code", "failure_code", "dispute_status")


class WebhookReceiverBase:
    """One provider's callbacks on one channel; subclasses set `channel` and the hooks."""

    channel: InboundChannel
    name: str

    def receive(self, request: WebhookRequest, now: datetime) -> list[InboundEvent]:
        check_request(request.path, request.body, request.headers)
        try:
            verified = self.verify(request, now)
        except (InvalidSignature, MalformedWebhook):
            raise
        except PARSER_ERRORS as error:
            raise MalformedWebhook(
                f"the request cannot be verified: {type(error).__name__}"
            ) from None
        try:
            events = [self._bounded(event) for event in self.translate(verified, request, now)]
        except UnusableWebhook:
            raise
        except MalformedWebhook as error:
            raise UnusableWebhook(str(error)) from None
        except PARSER_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None
        return events

    def acknowledgement(self, request: WebhookRequest) -> Acknowledgement | None:
        return None

    # Hooks.

    def verify(self, request: WebhookRequest, now: datetime) -> Any:
        """Raise InvalidSignature unless the request is signed; return what `items` reads."""
        raise NotImplementedError

    def translate(
        self, verified: Any, request: WebhookRequest, now: datetime
    ) -> Iterable[InboundEvent]:
        for item in self.items(verified):
            mapped = self.map_item(item, verified, request, now)
            if mapped is None:
                yield self.unknown(item, now)
            else:
                yield mapped

    def items(self, verified: Any) -> Iterable[Mapping[str, Any]]:
        return [verified]

    def map_item(
        self, item: Mapping[str, Any], verified: Any, request: WebhookRequest, now: datetime
    ) -> InboundEvent | None:
        raise NotImplementedError

    def unknown(self, item: Mapping[str, Any], now: datetime) -> UnknownEvent:
        """The item kept as it came; its id is the provider's, or a digest of the item."""
        return UnknownEvent(
            provider=self.name,
            event_id=self.item_id(item) or fingerprint(item),
            raw_type=self.item_type(item) or "unknown",
            occurred_at=now,
            raw=dict(item),
        )

    def item_id(self, item: Mapping[str, Any]) -> str | None:
        return None

    def item_type(self, item: Mapping[str, Any]) -> str | None:
        return None

    # Bounds on what comes out.

    def _bounded(self, event: InboundEvent) -> InboundEvent:
        if not event.event_id:
            raise MalformedWebhook("an event has no id")
        for name in _ID_FIELDS:
            value = getattr(event, name, None)
            check_id(name, value if isinstance(value, str) else None)
        for name in _TEXT_FIELDS:
            check_text(name, getattr(event, name, None))
        if isinstance(event, InboundSms):
            check_text("the message", event.body)
            check_id("the receiver", event.to)
        if isinstance(event, UnknownEvent):
            check_text("the event", dict(event.raw))
        if not isinstance(event, ProviderPaymentEvent | DeliveryReceipt | InboundSms):
            return event
        if event.provider != self.name:
            raise MalformedWebhook("an event names another provider")
        return event


def fingerprint(item: Mapping[str, Any]) -> str:
    """A stable id for an item without one: the same item gives the same id."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256-" + hashlib.sha256(canonical).hexdigest()[:32]

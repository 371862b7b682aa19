"""Inbound events: what any provider's verified callback becomes, in one vocabulary.

A payment provider's webhook becomes ProviderPaymentEvents, an SMS provider's status callback a
DeliveryReceipt, its incoming message an InboundSms, an email provider's event a DeliveryReceipt
(bounces, complaints, unsubscribes). What no mapping table knows becomes an UnknownEvent that
keeps the provider's raw item, so it is stored and can be read later, never silently dropped.

Every event is stored in the inbox as a JSON payload (`to_payload`) and applied from it
(`from_payload`), inline or by the worker: the signature is checked once, on arrival.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.people import PhoneNumber


def school_route(provider: str) -> tuple[str, str | None]:
    """(provider, school id) of a payment webhook route: `paypal/<school id>` is a school's own
    account's URL (`/webhook/payments/paypal/<school id>`), `paypal` the platform's."""
    name, _, school_id = provider.partition("/")
    return name, school_id or None


class InboundChannel(enum.StrEnum):
    """The first segment of `/webhook/<channel>/<provider>`."""

    PAYMENTS = "payments"
    SMS = "sms"
    EMAIL = "email"


class InboundKind(enum.StrEnum):
    PAYMENT = "payment"
    DELIVERY = "delivery"
    INBOUND_SMS = "inbound_sms"
    UNKNOWN = "unknown"


@frozen
class UnknownEvent:
    """A verified event no mapping table knows: kept with the provider's own item."""

    provider: str
    event_id: str
    raw_type: str
    occurred_at: datetime
    raw: Mapping[str, Any] = field(factory=dict, repr=False)


InboundEvent = ProviderPaymentEvent | DeliveryReceipt | InboundSms | UnknownEvent


def kind_of(event: InboundEvent) -> InboundKind:
    if isinstance(event, ProviderPaymentEvent):
        known = event.kind is not PaymentEventKind.UNKNOWN
        return InboundKind.PAYMENT if known else InboundKind.UNKNOWN
    if isinstance(event, DeliveryReceipt):
        return InboundKind.DELIVERY
    if isinstance(event, InboundSms):
        return InboundKind.INBOUND_SMS
    return InboundKind.UNKNOWN


def raw_type_of(event: InboundEvent) -> str:
    """The provider's own name for the event, for the inbox's event_type column."""
    if isinstance(event, ProviderPaymentEvent | UnknownEvent):
        return event.raw_type
    if isinstance(event, DeliveryReceipt):
        return f"delivery.{event.status.value}"
    return "sms.inbound"


def inbox_source(channel: InboundChannel, event: InboundEvent) -> str:
    """The inbox's provider column, which with the event id dedupes repeats. Payment events
    are keyed by the gateway's name; message events by provider and channel (`twilio:sms`,
    `twilio:inbound`, `sendgrid:email`), as they always were."""
    if channel is InboundChannel.PAYMENTS:
        return event.provider
    if isinstance(event, InboundSms):
        return f"{event.provider}:inbound"
    return f"{event.provider}:{channel.value}"


def to_payload(event: InboundEvent, channel: InboundChannel) -> dict[str, Any]:
    """A JSON-ready form of the event, tagged with its kind and channel."""
    kind = kind_of(event)
    head: dict[str, Any] = {"inbound": kind.value, "channel": channel.value}
    if isinstance(event, ProviderPaymentEvent):
        return {**event.to_payload(), **head}
    if isinstance(event, DeliveryReceipt):
        return {
            **head,
            "provider": event.provider,
            "event_id": event.event_id,
            "provider_message_id": event.provider_message_id,
            "status": event.status.value,
            "occurred_at": event.occurred_at.isoformat(),
            "error_code": event.error_code,
            "reference": event.reference,
            "suppress": event.suppress,
        }
    if isinstance(event, InboundSms):
        return {
            **head,
            "provider": event.provider,
            "event_id": event.event_id,
            "sender": event.sender.e164,
            "to": event.to,
            "body": event.body,
            "received_at": event.received_at.isoformat(),
        }
    return {
        **head,
        "provider": event.provider,
        "event_id": event.event_id,
        "raw_type": event.raw_type,
        "occurred_at": event.occurred_at.isoformat(),
        "raw": dict(event.raw),
    }


def from_payload(payload: Mapping[str, Any]) -> InboundEvent:
    """The event `to_payload` stored. Rows stored before the tag existed are payment events."""
    kind = InboundKind(payload.get("inbound", InboundKind.PAYMENT.value))
    if kind is InboundKind.PAYMENT or (kind is InboundKind.UNKNOWN and "kind" in payload):
        return ProviderPaymentEvent.from_payload(payload)
    if kind is InboundKind.DELIVERY:
        return DeliveryReceipt(
            provider=payload["provider"],
            event_id=payload["event_id"],
            provider_message_id=payload["provider_message_id"],
            status=MessageStatus(payload["status"]),
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            error_code=payload["error_code"],
            reference=payload["reference"],
            suppress=bool(payload["suppress"]),
        )
    if kind is InboundKind.INBOUND_SMS:
        return InboundSms(
            provider=payload["provider"],
            event_id=payload["event_id"],
            sender=PhoneNumber(payload["sender"]),
            to=payload["to"],
            body=payload["body"],
            received_at=datetime.fromisoformat(payload["received_at"]),
        )
    return UnknownEvent(
        provider=payload["provider"],
        event_id=payload["event_id"],
        raw_type=payload["raw_type"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        raw=payload.get("raw", {}),
    )


def message_channel(payload: Mapping[str, Any]) -> Channel:
    """The message channel a delivery receipt is about."""
    return Channel.SMS if payload.get("channel") == InboundChannel.SMS.value else Channel.EMAIL

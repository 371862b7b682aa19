"""Storing what a webhook delivery holds in the inbox, once per (provider, event id): the events
a receiver read, a payment delivery stored raw for the worker to read (one INSERT through the
intake), or a signed delivery whose content is unusable, kept as REJECTED."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from justdriving.domain.ids import new_id
from justdriving.domain.inbound import (
    InboundChannel,
    InboundEvent,
    InboundKind,
    inbox_source,
    kind_of,
    raw_type_of,
    to_payload,
)
from justdriving.domain.outbox import InboxEvent, InboxStatus
from justdriving.ports.persistence import InboxIntake, UnitOfWorkFactory
from justdriving.ports.webhooks import (
    DeferredReceiver,
    WebhookHead,
    WebhookReceiver,
    WebhookRequest,
)

DEFERRED = "deferred"  # the payload of a row stored raw, translated when applied


@frozen
class WebhookReceipt:
    """What a delivery left in the inbox: new rows to apply, new rows of event types nobody
    handles (kept as IGNORED), repeats that were dropped, and signed deliveries kept as
    REJECTED because their content is unusable."""

    stored: tuple[str, ...]
    duplicates: int
    ignored: int = 0
    rejected: int = 0


def _kept(channel: InboundChannel, body: bytes) -> bytes:
    """The raw body kept with the row: a payment event's, for the record; a message callback
    carries phone numbers and addresses, and its event holds what applying it needs."""
    return body if channel is InboundChannel.PAYMENTS else b""


def store_raw(
    intake: InboxIntake,
    receiver: DeferredReceiver,
    route: str,
    head: WebhookHead,
    body: bytes,
    now: datetime,
) -> WebhookReceipt:
    """The raw body, with the event's id and type only: the worker reads it when it applies
    it (payload `{"inbound": "deferred"}`)."""
    row = InboxEvent(
        id=new_id("ibx"),
        provider=receiver.name,
        event_id=head.event_id,
        event_type=head.event_type[:128],
        received_at=now,
        body=body,
        payload={"inbound": DEFERRED, "channel": receiver.channel.value, "route": route},
    )
    if intake.put(row):
        return WebhookReceipt((row.id,), 0)
    return WebhookReceipt((), 1)


def store_events(
    unit_of_work: UnitOfWorkFactory,
    channel: InboundChannel,
    events: Sequence[InboundEvent],
    body: bytes,
    now: datetime,
) -> WebhookReceipt:
    """Each event read from the delivery, once; an event type nobody handles is kept as
    IGNORED."""
    stored: list[str] = []
    ignored = 0
    body = _kept(channel, body)
    with unit_of_work() as uow:
        for event in events:
            known = kind_of(event) is not InboundKind.UNKNOWN
            row = InboxEvent(
                id=new_id("ibx"),
                provider=inbox_source(channel, event),
                event_id=event.event_id,
                event_type=raw_type_of(event)[:128],
                received_at=now,
                body=body,
                payload=to_payload(event, channel),
                status=InboxStatus.RECEIVED if known else InboxStatus.IGNORED,
            )
            if not uow.inbox.add(row):
                continue
            if known:
                stored.append(row.id)
            else:
                ignored += 1
        uow.commit()
    return WebhookReceipt(tuple(stored), len(events) - len(stored) - ignored, ignored)


def store_rejected(
    unit_of_work: UnitOfWorkFactory,
    receiver: WebhookReceiver,
    request: WebhookRequest,
    error: Exception,
    now: datetime,
) -> WebhookReceipt:
    """A signed delivery whose content is unusable, kept (by its body's digest) so the provider
    is acknowledged and stops sending it."""
    digest = hashlib.sha256(request.body).hexdigest()[:40]
    source = receiver.name
    if receiver.channel is not InboundChannel.PAYMENTS:
        source = f"{receiver.name}:{receiver.channel.value}"
    row = InboxEvent(
        id=new_id("ibx"),
        provider=source,
        event_id=f"rejected:{digest}",
        event_type="rejected",
        received_at=now,
        body=_kept(receiver.channel, request.body),
        payload={"inbound": "rejected", "channel": receiver.channel.value},
        status=InboxStatus.REJECTED,
        error=str(error)[:500],
    )
    with unit_of_work() as uow:
        added = uow.inbox.add(row)
        uow.commit()
    return WebhookReceipt((), 0 if added else 1, rejected=1 if added else 0)

"""Domain events for the host application's webhook endpoint: chosen and queued in the
transaction that recorded them, delivered by the relay like any provider call
(`relay/host_events.py`).

Each delivery is a Standard Webhooks message: the body is
``{"type": <topic>, "timestamp": <occurred_at>, "data": <the event as JSON>}``, its
`webhook-id` the outbox row's id (the same on every attempt), signed by the sender adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from justdriving.domain.errors import InvalidInput
from justdriving.domain.events import EVENT_TYPES, DomainEvent, event_to_json
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.ports.persistence import UnitOfWork


class OutgoingEvents:
    """Which events the host's endpoint receives: every topic, or those in `topics`."""

    def __init__(self, topics: Iterable[str] | None = None) -> None:
        wanted = None if topics is None else frozenset(topics)
        unknown = sorted((wanted or frozenset()) - set(EVENT_TYPES))
        if unknown:
            raise InvalidInput(f"unknown event topics: {', '.join(unknown)[:200]}")
        self._topics = wanted

    def queue(self, uow: UnitOfWork, events: Iterable[DomainEvent], now: datetime) -> None:
        """One outbox row per wanted event, written with the change that recorded it."""
        for event in events:
            if self._topics is None or event.topic in self._topics:
                uow.outbox.add(
                    OutboxMessage.queued(
                        event.school_id,
                        OutboxKind.DELIVER_EVENT,
                        webhook_message(event),
                        new_id("evt"),  # unique per event: the row's id is the webhook-id
                        now,
                    )
                )


def webhook_message(event: DomainEvent) -> dict[str, Any]:
    document = event_to_json(event)
    return {"type": event.topic, "timestamp": document["occurred_at"], "data": document}

"""What every domain event is, how an aggregate records its events until the unit of work
takes them, and an event as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from attrs import Attribute, asdict, define, field, frozen


@frozen
class DomainEvent:
    """Base of all events; `name` is stable and used in logs and the outbox.

    Each event type is part of the public vocabulary (`docs/events.md`): its `topic` names it
    to a subscriber, and its `version` goes up whenever a field is removed, renamed or changes
    its meaning (adding a field keeps the version). Ids are strings, amounts `Money` in minor
    units, times aware datetimes in UTC; every event names its school.
    """

    topic: ClassVar[str] = "event"
    version: ClassVar[int] = 1

    occurred_at: datetime
    school_id: str = field(kw_only=True)  # the tenant it happened in

    @property
    def name(self) -> str:
        return type(self).__name__


def event_to_json(event: DomainEvent) -> dict[str, Any]:
    """The event as a JSON-ready document: ``{"topic", "version", "occurred_at", ...}``, amounts
    as ``{"amount": <minor units>, "currency"}``, times ISO 8601 in UTC
    (`justdriving.adapters.event_wire.event_from_json` reads it back)."""
    fields = asdict(event, value_serializer=_json_value)
    return {"topic": event.topic, "version": event.version, **fields}


def _json_value(_: object, __: Attribute[Any] | None, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


@define
class EventLog:
    """Events an aggregate recorded since it was loaded: handed to the reactions before the
    unit of work commits (`domain/services/reactions.py`), never stored."""

    pending: list[DomainEvent] = field(factory=list)

    def record(self, event: DomainEvent) -> None:
        self.pending.append(event)

    def drain(self) -> list[DomainEvent]:
        drained, self.pending = self.pending, []
        return drained


def drain_all(records: Iterable[object]) -> list[DomainEvent]:
    """Take the pending events of every record that keeps an EventLog, record by record."""
    drained: list[DomainEvent] = []
    for record in records:
        events = getattr(record, "events", None)
        if isinstance(events, EventLog):
            drained += events.drain()
    return drained

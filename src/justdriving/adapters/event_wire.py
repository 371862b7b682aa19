"""Domain events as JSON documents, for whatever carries them out of the process (a host
application's subscription, a queue): ``{"topic", "version", "occurred_at", ...fields}``.
`event_to_json` (written by the domain, `justdriving.domain.events`) and `event_from_json`
(read here, with cattrs) are each other's inverse.

Amounts are ``{"amount": <minor units>, "currency": "DKK"}``, times ISO 8601 in UTC. A document
whose topic is unknown, whose version is newer than ours or whose fields do not fit is refused
with `MalformedEvent`, never guessed at; a field we do not know is ignored, since adding a field
keeps an event's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import cattrs

from justdriving.domain.errors import InvalidInput, JustDrivingError
from justdriving.domain.events import EVENT_TYPES, DomainEvent, event_to_json
from justdriving.domain.money import Money

__all__ = ["MalformedEvent", "event_from_json", "event_to_json"]


class MalformedEvent(InvalidInput):
    """A document that is not an event of our vocabulary, in a version we read."""


def event_from_json(document: Mapping[str, Any]) -> DomainEvent:
    fields = dict(document)
    topic, version = fields.pop("topic", None), fields.pop("version", None)
    kind = EVENT_TYPES.get(topic) if isinstance(topic, str) else None
    if kind is None:
        raise MalformedEvent(f"unknown event topic {str(topic)[:60]!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version > kind.version:
        raise MalformedEvent(f"{topic}: version {str(version)[:20]!r} is not one we read")
    try:
        event: DomainEvent = _converter().structure(fields, kind)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, JustDrivingError) as exc:
        raise MalformedEvent(f"{topic}: its fields do not fit ({type(exc).__name__})") from None
    return event


def _utc(value: object, _: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("a time is an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time needs its UTC offset")
    return moment.astimezone(UTC)


def _text(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise ValueError("an id or a name is a string")
    return value


def _money(value: object, _: object) -> Money:
    if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
        raise ValueError("an amount is {amount, currency}")
    amount, currency = value["amount"], value["currency"]
    if not isinstance(amount, int) or isinstance(amount, bool) or not isinstance(currency, str):
        raise ValueError("an amount is whole minor units with a currency code")
    return Money(amount, currency)


@cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook(datetime, _utc)
    converter.register_structure_hook(Money, _money)
    converter.register_structure_hook(str, _text)
    return converter

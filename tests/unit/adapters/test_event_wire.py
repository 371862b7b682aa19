"""The event vocabulary on the wire: every event type survives the trip to JSON and back, and
a document that is not one of our events is refused by name, never guessed at."""

from __future__ import annotations

import json
import re
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving import EVENT_TYPES, DomainEvent, Money
from justdriving.adapters.event_wire import MalformedEvent, event_from_json
from justdriving.domain.events import BookingCancelled, PaymentSucceeded, event_to_json

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
amounts = st.builds(
    Money, st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["DKK", "EUR"])
)
FIELDS: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(max_size=40),
    bool: st.booleans(),
    int: st.integers(min_value=0, max_value=10**6),
    datetime: moments,
    Money: amounts,
    Money | None: st.none() | amounts,
    str | None: st.none() | st.text(max_size=40),
    tuple[str, ...]: st.lists(st.text(max_size=20), max_size=4).map(tuple),
}


def events_of(kind: type[DomainEvent]) -> st.SearchStrategy[DomainEvent]:
    hints = typing.get_type_hints(kind)
    return st.builds(kind, **{f.name: FIELDS[hints[f.name]] for f in attrs.fields(kind)})


def any_event() -> st.SearchStrategy[DomainEvent]:
    return st.sampled_from(sorted(EVENT_TYPES.values(), key=lambda k: k.topic)).flatmap(events_of)


@given(any_event())
def test_every_event_type_survives_json_and_back(event: DomainEvent) -> None:
    document = json.loads(json.dumps(event_to_json(event)))

    assert event_from_json(document) == event
    assert (document["topic"], document["version"]) == (event.topic, event.version)


def test_an_amount_travels_as_minor_units_with_its_currency() -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)

    document = event_to_json(PaymentSucceeded(at, "pay_1", Money(12550, "DKK"), school_id="sch_1"))

    assert document == {
        "topic": "payment.succeeded",
        "version": 1,
        "occurred_at": "2026-12-07T09:30:00+00:00",
        "school_id": "sch_1",
        "payment_id": "pay_1",
        "amount": {"amount": 12550, "currency": "DKK"},
    }


def test_a_field_added_in_the_same_version_is_ignored() -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    cancelled = BookingCancelled(at, "bk_1", "student", None, school_id="sch_1")
    document = {**event_to_json(cancelled), "reason": "ill"}

    assert event_from_json(document) == cancelled


GOOD: dict[str, Any] = {
    "topic": "payment.succeeded",
    "version": 1,
    "occurred_at": "2026-12-07T09:30:00+00:00",
    "school_id": "sch_1",
    "payment_id": "pay_1",
    "amount": {"amount": 12550, "currency": "DKK"},
}


@pytest.mark.parametrize(
    "change",
    [
        {"topic": "payment.refunded_twice"},
        {"topic": None},
        {"version": 2},
        {"version": "1"},
        {"version": True},
        {"occurred_at": "2026-12-07T09:30:00"},
        {"occurred_at": 1765099800},
        {"payment_id": 17},
        {"school_id": None},
        {"amount": 125.5},
        {"amount": {"amount": 125.5, "currency": "DKK"}},
        {"amount": {"amount": 12550, "currency": "DKK", "extra": 1}},
        {"amount": {"amount": 12550, "currency": "XXQ"}},
    ],
    ids=repr,
)
def test_a_document_that_is_not_one_of_our_events_is_refused(change: dict[str, Any]) -> None:
    assert event_from_json(GOOD) is not None

    with pytest.raises(MalformedEvent):
        event_from_json({**GOOD, **change})


def test_a_missing_field_is_refused() -> None:
    document = {key: value for key, value in GOOD.items() if key != "payment_id"}

    with pytest.raises(MalformedEvent):
        event_from_json(document)


def test_the_documented_vocabulary_is_the_one_in_the_code() -> None:
    page = (Path(__file__).parents[3] / "docs" / "events.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([a-z_.]+)` \| `(\w+)` \|", page, flags=re.MULTILINE))

    assert documented == {topic: kind.__name__ for topic, kind in EVENT_TYPES.items()}

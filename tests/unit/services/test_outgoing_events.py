"""Domain events for the host's webhook endpoint: queued with the change that recorded them,
delivered by the relay like any provider call (retried, dead-lettered, revived by an operator),
never queued for a change that was refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakeHostEventSender, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import (
    InvalidInput,
    ProviderRejected,
    ProviderUnavailable,
    TeacherDoubleBooked,
)
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from memory_app import memory_application

from .support import World, build_world, outbox


@pytest.fixture
def host() -> FakeHostEventSender:
    return FakeHostEventSender()


@pytest.fixture
def app(store: MemoryStore, clock: FrozenClock, host: FakeHostEventSender) -> Application:
    return memory_application(clock, store=store, host_events=host)


def test_a_booking_reaches_the_host_as_requested_and_confirmed(
    app: Application, world: World, clock: FrozenClock, host: FakeHostEventSender
) -> None:
    booking = world.book(app, clock.now() + timedelta(days=2))

    app.relay_outbox()

    by_type = {m["type"]: m for m in host.received.values()}  # deliveries are not ordered
    assert {"booking.requested", "booking.confirmed"} <= set(by_type)
    requested = by_type["booking.requested"]
    assert requested["data"] == {
        "topic": "booking.requested",
        "version": 1,
        "occurred_at": clock.now().isoformat(),
        "school_id": world.school.id,
        "booking_id": booking.id,
    }
    assert requested["timestamp"] == requested["data"]["occurred_at"]


def test_each_delivery_is_signed_once_per_attempt_under_the_rows_own_id(
    app: Application,
    world: World,
    clock: FrozenClock,
    host: FakeHostEventSender,
    store: MemoryStore,
) -> None:
    world.book(app, clock.now() + timedelta(days=2))
    host.fail_next(ProviderUnavailable("host", "503"))

    app.relay_outbox()
    clock.advance(timedelta(hours=1))
    app.relay_outbox()

    rows = {row.id for row in outbox(store, OutboxKind.DELIVER_EVENT)}
    assert set(host.received) == rows  # the webhook-id is the outbox row's id
    first, *_ = host.attempts
    assert [a.webhook_id for a in host.attempts].count(first.webhook_id) == 2  # retried once
    assert json.loads(first.body)["type"] == first.topic


def test_only_the_topics_asked_for_are_queued(store: MemoryStore, clock: FrozenClock) -> None:
    host = FakeHostEventSender()
    app = memory_application(
        clock, store=store, host_events=host, host_event_topics=["booking.confirmed"]
    )
    world = build_world(app)
    world.book(app, clock.now() + timedelta(days=2))

    app.relay_outbox()

    assert host.topics() == ["booking.confirmed"]


def test_unknown_topics_are_refused_when_the_application_is_built(clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput, match=r"booking\.exploded"):
        memory_application(
            clock, host_events=FakeHostEventSender(), host_event_topics=["booking.exploded"]
        )


def test_a_refused_change_queues_nothing_for_the_host(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    start = clock.now() + timedelta(days=2)
    world.book(app, start)
    before = len(outbox(store, OutboxKind.DELIVER_EVENT))

    with pytest.raises(TeacherDoubleBooked):
        world.book(app, start)

    assert len(outbox(store, OutboxKind.DELIVER_EVENT)) == before


def test_a_gone_endpoint_buries_the_row_and_an_operator_can_retry_it(
    app: Application,
    world: World,
    clock: FrozenClock,
    host: FakeHostEventSender,
    store: MemoryStore,
) -> None:
    world.book(app, clock.now() + timedelta(days=2))
    rows = outbox(store, OutboxKind.DELIVER_EVENT)
    host.fail_next(ProviderRejected("host", "410 Gone"), times=len(rows))

    report = app.relay_outbox()

    assert report.dead == len(rows)
    dead = outbox(store, OutboxKind.DELIVER_EVENT)
    assert {row.status for row in dead} == {OutboxStatus.DEAD}
    app.retry_outbox_message(dead[0].id)
    app.relay_outbox()
    assert set(host.received) == {dead[0].id}


def test_without_a_host_endpoint_nothing_is_queued(store: MemoryStore, clock: FrozenClock) -> None:
    app = memory_application(clock, store=store)
    world = build_world(app)
    world.book(app, clock.now() + timedelta(days=2))

    assert outbox(store, OutboxKind.DELIVER_EVENT) == []

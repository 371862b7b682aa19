"""A host application subscribes to domain events through the facade: it hears what its use
cases committed, by type or by topic, and a subscriber's failure never reaches the use case."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from justdriving import (
    BookingConfirmed,
    BookingRequested,
    DomainEvent,
    InvalidInput,
    InvoiceIssued,
    TeacherDoubleBooked,
)
from justdriving.adapters.memory import FrozenClock
from justdriving.application import Application
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem

from .support import World, dkk


def test_a_subscriber_hears_a_booking_requested_then_confirmed(
    app: Application, world: World, clock: FrozenClock
) -> None:
    heard: list[DomainEvent] = []
    app.subscribe(DomainEvent, heard.append)

    booking = world.book(app, clock.now() + timedelta(days=2))

    assert [type(e) for e in heard][:2] == [BookingRequested, BookingConfirmed]
    assert {e.school_id for e in heard} == {world.school.id}
    assert heard[0] == BookingRequested(clock.now(), booking.id, school_id=world.school.id)


def test_a_subscriber_by_topic_hears_only_that_topic(app: Application, world: World) -> None:
    issued: list[DomainEvent] = []
    app.subscribe("invoice.issued", issued.append)

    draft = app.draft_invoice(
        world.school.id,
        world.student.id,
        [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))],
    )
    invoice = app.issue_invoice(world.school.id, draft.id)

    assert issued == [
        InvoiceIssued(
            issued[0].occurred_at, invoice.id, invoice.number or "", school_id=world.school.id
        )
    ]


def test_a_failing_subscriber_is_logged_and_the_use_case_and_other_subscribers_go_on(
    app: Application, world: World, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: DomainEvent) -> None:
        raise RuntimeError(f"cannot handle {event}")

    heard: list[DomainEvent] = []
    app.subscribe(BookingRequested, broken)
    app.subscribe(BookingRequested, heard.append)

    with caplog.at_level(logging.ERROR, logger="justdriving.events"):
        booking = world.book(app, clock.now() + timedelta(days=2))

    with app.uow() as uow:
        assert uow.bookings.get(booking.id).id == booking.id
    assert [e.booking_id for e in heard if isinstance(e, BookingRequested)] == [booking.id]
    [failure] = caplog.records
    assert failure.getMessage().endswith("<locals>.broken failed on booking.requested")


def test_a_refused_use_case_publishes_nothing(
    app: Application, world: World, clock: FrozenClock
) -> None:
    start = clock.now() + timedelta(days=2)
    world.book(app, start)
    heard: list[DomainEvent] = []
    app.subscribe(DomainEvent, heard.append)

    with pytest.raises(TeacherDoubleBooked):
        world.book(app, start)

    assert heard == []


@pytest.mark.parametrize("kind", ["booking.exploded", "", 42, str, None])
def test_subscribing_to_what_is_not_an_event_is_refused(app: Application, kind: object) -> None:
    with pytest.raises(InvalidInput):
        app.subscribe(kind, print)  # type: ignore[arg-type]


def test_a_subscriber_must_be_callable(app: Application) -> None:
    with pytest.raises(InvalidInput):
        app.subscribe(DomainEvent, "print")  # type: ignore[arg-type]

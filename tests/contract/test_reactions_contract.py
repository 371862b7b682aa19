"""Reactions to domain events run inside the unit of work, before it commits: the same on
every persistence implementation (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.domain.bookings import Booking, TimeSlot
from justdriving.domain.errors import InvalidInput
from justdriving.domain.events import BookingConfirmed, BookingRequested, DomainEvent
from justdriving.domain.ids import BookingId, BookingTypeId, SchoolId, StudentId, TeacherId, new_id
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.services.reactions import (
    MAX_ROUNDS,
    EndlessReactions,
    Reacting,
    Reaction,
    Reactions,
)
from justdriving.domain.services.subscriptions import Subscribers
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    from conftest import PersistenceBackend

T0 = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
SCHOOL = SchoolId("sch_1")


def a_booking(id: str | None = None) -> Booking:
    return Booking(
        id=BookingId(id or new_id("bk")),
        school_id=SCHOOL,
        teacher_id=TeacherId("tch_1"),
        student_ids=(StudentId("stu_1"),),
        booking_type_id=BookingTypeId("bt_1"),
        slot=TimeSlot.starting(T0, timedelta(minutes=60)),
        price=Money(50000, "DKK"),
    )


def a_row(key: str) -> OutboxMessage:
    return OutboxMessage(
        id=new_id("obx"),
        kind=OutboxKind.SEND_SMS,
        school_id=SCHOOL,
        payload={"message_id": "msg_1"},
        idempotency_key=key,
        created_at=T0,
    )


class Seen:
    """What the reactions were handed, in order, and with which `now`."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self.at: list[datetime] = []

    def reaction(self, also: Callable[[UnitOfWork, DomainEvent], None] | None = None) -> Reaction:
        def react(uow: UnitOfWork, event: DomainEvent, now: datetime) -> None:
            self.events.append(event)
            self.at.append(now)
            if also is not None:
                also(uow, event)

        return react


def reacting(persistence: PersistenceBackend, reactions: Reactions) -> UnitOfWorkFactory:
    return Reacting(persistence.uow, FrozenClock(T0 + timedelta(minutes=5)), reactions)


def queue_row(uow: UnitOfWork, event: DomainEvent) -> None:
    uow.outbox.add(a_row(f"after-{event.name}"))


def keys(persistence: PersistenceBackend) -> list[str]:
    with persistence.uow() as uow:
        return sorted(row.idempotency_key for row in uow.outbox.list())


def stored(persistence: PersistenceBackend, booking: Booking) -> Booking | None:
    with persistence.uow() as uow:
        return uow.bookings.find(booking.id)


def test_events_of_an_added_aggregate_reach_their_reactions_before_it_commits_with_them(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {BookingRequested: (seen.reaction(queue_row),)})() as uow:
        uow.bookings.add(booking)
        assert seen.events == []
        uow.commit()

    assert seen.events == [BookingRequested(T0, booking.id, school_id=booking.school_id)]
    assert seen.at == [T0 + timedelta(minutes=5)]  # the clock's time at the commit
    assert stored(persistence, booking) is not None
    assert keys(persistence) == ["after-BookingRequested"]


def test_events_of_a_loaded_aggregate_reach_their_reactions(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    with persistence.uow() as uow:
        uow.bookings.add(booking)
        uow.commit()

    with reacting(persistence, {BookingConfirmed: (seen.reaction(queue_row),)})() as uow:
        uow.bookings.get(booking.id).confirm(T0)
        uow.commit()

    assert seen.events == [BookingConfirmed(T0, booking.id, school_id=booking.school_id)]
    assert keys(persistence) == ["after-BookingConfirmed"]


def test_events_without_a_reaction_are_let_go_and_the_commit_goes_ahead(
    persistence: PersistenceBackend,
) -> None:
    booking = a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {})() as uow:
        uow.bookings.add(booking)
        uow.commit()

    assert stored(persistence, booking) is not None
    assert booking.events.pending == []


def test_a_reactions_own_events_are_dispatched_in_a_further_round(
    persistence: PersistenceBackend,
) -> None:
    first, second = a_booking(), a_booking()
    with persistence.uow() as uow:
        uow.bookings.add(second)
        uow.commit()
    seen = Seen()

    def confirm_the_other(uow: UnitOfWork, event: DomainEvent) -> None:
        uow.bookings.get(second.id).confirm(T0)  # loaded by the reaction

    reactions: Reactions = {
        BookingRequested: (seen.reaction(confirm_the_other),),
        BookingConfirmed: (seen.reaction(queue_row),),
    }
    first.events.record(BookingRequested(T0, first.id, school_id=first.school_id))
    with reacting(persistence, reactions)() as uow:
        uow.bookings.add(first)
        uow.commit()

    assert seen.events == [
        BookingRequested(T0, first.id, school_id=first.school_id),
        BookingConfirmed(T0, second.id, school_id=second.school_id),
    ]
    assert keys(persistence) == ["after-BookingConfirmed"]
    with persistence.uow() as uow:
        assert uow.bookings.get(second.id).status.value == "confirmed"


def test_events_of_several_aggregates_come_in_the_order_the_aggregates_were_first_tracked(
    persistence: PersistenceBackend,
) -> None:
    early, late = a_booking("bk_z"), a_booking("bk_a")
    with persistence.uow() as uow:
        uow.bookings.add(early)
        uow.commit()
    seen = Seen()
    with reacting(persistence, {BookingConfirmed: (seen.reaction(),)})() as uow:
        uow.bookings.get(early.id)
        uow.bookings.add(late)
        late.confirm(T0)
        uow.bookings.get(early.id).confirm(T0 + timedelta(minutes=1))
        uow.commit()

    confirmed = [event.booking_id for event in seen.events if isinstance(event, BookingConfirmed)]
    assert confirmed == [early.id, late.id]


def test_each_event_is_handed_out_once_so_a_second_commit_reacts_only_to_new_events(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    reactions: Reactions = {
        BookingRequested: (seen.reaction(),),
        BookingConfirmed: (seen.reaction(),),
    }
    with reacting(persistence, reactions)() as uow:
        uow.bookings.add(booking)
        uow.commit()
        booking.confirm(T0)
        uow.commit()

    assert seen.events == [
        BookingRequested(T0, booking.id, school_id=booking.school_id),
        BookingConfirmed(T0, booking.id, school_id=booking.school_id),
    ]


def test_leaving_the_block_without_commit_dispatches_nothing_and_writes_nothing(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {BookingRequested: (seen.reaction(queue_row),)})() as uow:
        uow.bookings.add(booking)

    assert seen.events == []
    assert stored(persistence, booking) is None
    assert keys(persistence) == []


def test_a_rollback_forgets_the_events_so_a_later_commit_does_not_react_to_them(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {BookingRequested: (seen.reaction(queue_row),)})() as uow:
        uow.bookings.add(booking)
        uow.rollback()
        uow.commit()

    assert seen.events == []
    assert stored(persistence, booking) is None
    assert keys(persistence) == []


def test_a_failing_reaction_leaves_nothing_written_not_even_its_cause(
    persistence: PersistenceBackend,
) -> None:
    booking = a_booking()

    def write_then_fail(uow: UnitOfWork, event: DomainEvent) -> None:
        queue_row(uow, event)
        uow.bookings.for_teacher_between("tch_1", T0, T0 + timedelta(hours=1))  # SQL: flushes
        raise OSError("the reaction broke")

    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {BookingRequested: (Seen().reaction(write_then_fail),)})() as uow:
        uow.bookings.add(booking)
        with pytest.raises(OSError, match="the reaction broke"):
            uow.commit()
        uow.commit()  # the failed attempt was rolled back: nothing is left to write

    assert stored(persistence, booking) is None
    assert keys(persistence) == []


def test_a_commit_that_fails_after_the_reactions_ran_writes_neither_cause_nor_follow_up(
    persistence: PersistenceBackend,
) -> None:
    seen, booking = Seen(), a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    persistence.fail_next_commit(OSError("disk full"))
    with reacting(persistence, {BookingRequested: (seen.reaction(queue_row),)})() as uow:
        uow.bookings.add(booking)
        with pytest.raises(OSError, match="disk full"):
            uow.commit()

    assert len(seen.events) == 1  # it reacted before the commit was refused
    assert stored(persistence, booking) is None
    assert keys(persistence) == []


def test_reactions_that_never_settle_raise_endless_reactions_and_write_nothing(
    persistence: PersistenceBackend,
) -> None:
    booking = a_booking()

    def again(uow: UnitOfWork, event: DomainEvent) -> None:
        if event.occurred_at == T0:
            queue_row(uow, event)
        booking.events.record(
            BookingRequested(
                event.occurred_at + timedelta(1), booking.id, school_id=booking.school_id
            )
        )

    seen = Seen()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    with reacting(persistence, {BookingRequested: (seen.reaction(again),)})() as uow:
        uow.bookings.add(booking)
        with pytest.raises(EndlessReactions, match="BookingRequested"):
            uow.commit()

    assert len(seen.events) == MAX_ROUNDS
    assert stored(persistence, booking) is None
    assert keys(persistence) == []


def test_subscribers_hear_every_event_once_its_transaction_committed_and_not_before(
    persistence: PersistenceBackend,
) -> None:
    heard: list[tuple[DomainEvent, Booking | None]] = []
    subscribers = Subscribers()
    subscribers.subscribe(DomainEvent, lambda e: heard.append((e, stored(persistence, booking))))
    booking = a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    seen_confirm = Seen()
    confirm: Reactions = {
        BookingRequested: (seen_confirm.reaction(lambda u, e: booking.confirm(T0)),)
    }
    factory = Reacting(persistence.uow, FrozenClock(T0), confirm, subscribers=subscribers)
    with factory() as uow:
        uow.bookings.add(booking)
        assert heard == []
        uow.commit()

    assert [type(e) for e, _ in heard] == [BookingRequested, BookingConfirmed]
    assert all(saved is not None and saved.id == booking.id for _, saved in heard)
    assert seen_confirm.events  # the reaction ran before the subscribers


def test_subscribers_hear_nothing_of_a_change_that_was_rolled_back(
    persistence: PersistenceBackend,
) -> None:
    heard: list[DomainEvent] = []
    subscribers = Subscribers()
    subscribers.subscribe(DomainEvent, heard.append)

    def fail(uow: UnitOfWork, event: DomainEvent) -> None:
        raise InvalidInput("refused by a reaction")

    booking = a_booking()
    booking.events.record(BookingRequested(T0, booking.id, school_id=booking.school_id))
    reactions = {BookingRequested: (Seen().reaction(fail),)}
    with Reacting(persistence.uow, FrozenClock(T0), reactions, subscribers=subscribers)() as uow:
        uow.bookings.add(booking)
        with pytest.raises(InvalidInput):
            uow.commit()

    assert heard == []
    assert stored(persistence, booking) is None

"""The reactions to booking events, each on its own, and the table that registers them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.adapters.memory.persistence import MemoryUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.bookings import Booking, CancelledBy
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRescheduled,
    DomainEvent,
)
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.followups.bookings import (
    booking_cancelled,
    booking_completed,
    booking_confirmed,
    booking_marked_no_show,
    booking_rescheduled,
)
from justdriving.domain.services.followups.teachers import (
    teacher_told_booked,
    teacher_told_cancelled,
    teacher_told_moved,
    teacher_told_no_show,
)
from justdriving.domain.services.reactions import REACTIONS
from justdriving.ports.persistence import UnitOfWork

from .support import (
    LATE_POLICY,
    NOW,
    World,
    build_world,
    deliver,
    dkk,
    messages,
    paid_package,
    record,
    with_settings,
)

E = TypeVar("E", bound=DomainEvent)


def react(
    store: MemoryStore, reaction: Callable[[UnitOfWork, E, datetime], None], event: E
) -> None:
    """Run one reaction in a plain unit of work (no other reaction runs) and commit."""
    with MemoryUnitOfWorkFactory(store)() as uow:
        reaction(uow, event, NOW)
        uow.commit()


def changed(store: MemoryStore, booking_id: str, verb: Callable[[Booking], object]) -> Booking:
    """Apply a booking verb in a plain unit of work: the change is stored, nothing follows."""
    with MemoryUnitOfWorkFactory(store)() as uow:
        booking = uow.bookings.get(booking_id)
        verb(booking)
        uow.commit()
    return booking


def invoices_of(store: MemoryStore, booking_id: str) -> list[Invoice]:
    found: list[Invoice] = store.records("invoices")
    return [invoice for invoice in found if invoice.booking_id == booking_id]


def test_each_booking_event_is_registered_with_its_reactions() -> None:
    assert REACTIONS[BookingConfirmed] == (booking_confirmed, teacher_told_booked)
    assert REACTIONS[BookingRescheduled] == (booking_rescheduled, teacher_told_moved)
    assert REACTIONS[BookingCancelled] == (booking_cancelled, teacher_told_cancelled)
    assert REACTIONS[BookingCompleted] == (booking_completed,)
    assert REACTIONS[BookingMarkedNoShow] == (booking_marked_no_show, teacher_told_no_show)


def test_a_confirmed_booking_tells_its_student_by_sms_and_email(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    booking = world.book(app, clock.now() + timedelta(days=3))
    before = len(messages(store, MessageType.BOOKING_CONFIRMATION))

    react(store, booking_confirmed, BookingConfirmed(NOW, booking.id, school_id=booking.school_id))

    told = messages(store, MessageType.BOOKING_CONFIRMATION)[before:]
    assert {m.channel.value for m in told} == {"sms", "email"}
    assert {m.context["booking_id"] for m in told} == {booking.id}
    assert {m.context["teacher_name"] for m in told} == {"Lars Lærer"}


def test_a_rescheduled_booking_tells_its_student_the_new_local_time(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    booking = world.book(app, clock.now() + timedelta(days=3))
    moved_to = clock.now() + timedelta(days=4)
    changed(store, booking.id, lambda b: b.reschedule(moved_to, NOW))

    react(
        store,
        booking_rescheduled,
        BookingRescheduled(NOW, booking.id, booking.slot.start, school_id=booking.school_id),
    )

    told = messages(store, MessageType.BOOKING_CHANGE)
    assert len(told) == 2
    local = world.school.local_time(moved_to).strftime("%Y-%m-%d %H:%M")
    assert {m.context["start"] for m in told} == {local}


def test_a_late_cancellation_invoices_its_fee_and_names_it_in_the_message(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    booking = world.book(app, clock.now() + timedelta(hours=12))
    fee = dkk("250.00")  # half the price, 12 h before the lesson
    changed(store, booking.id, lambda b: b.cancel(CancelledBy.STUDENT, NOW, LATE_POLICY))

    react(
        store,
        booking_cancelled,
        BookingCancelled(NOW, booking.id, "student", fee, school_id=booking.school_id),
    )

    [invoice] = invoices_of(store, booking.id)
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.outstanding == fee
    assert [line.service for line in invoice.lines] == [InvoiceService.CANCELLATION_FEE]
    told = messages(store, MessageType.CANCELLATION)
    assert {m.context["fee"] for m in told} == {"250,00 kr."}


def test_a_free_cancellation_gives_the_package_credit_back_and_invoices_nothing(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    package_id, _ = paid_package(app, world)
    booking = world.book(app, clock.now() + timedelta(days=3), package_id=package_id)
    assert record(store, "packages", package_id).credits_left == 4
    changed(store, booking.id, lambda b: b.cancel(CancelledBy.SCHOOL, NOW, LATE_POLICY))

    react(
        store,
        booking_cancelled,
        BookingCancelled(NOW, booking.id, "school", None, school_id=booking.school_id),
    )

    assert record(store, "packages", package_id).credits_left == 5
    assert invoices_of(store, booking.id) == []
    assert {m.context["fee"] for m in messages(store, MessageType.CANCELLATION)} == {""}


def test_a_cancellation_without_a_fee_gives_a_secured_deposit_back(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = build_world(app, "Depositum Skole", with_settings(deposit_required=True))
    booking = world.book(app, clock.now() + timedelta(days=3))
    started = app.start_deposit(world.school.id, booking.id)
    deliver(app, gateway.authorize(started.session.provider_payment_id))
    changed(store, booking.id, lambda b: b.cancel(CancelledBy.TEACHER, NOW, LATE_POLICY))

    react(
        store,
        booking_cancelled,
        BookingCancelled(NOW, booking.id, "teacher", None, school_id=booking.school_id),
    )

    [deposit] = store.records("deposits")
    assert deposit.status is DepositStatus.RETURNED


def test_a_completed_lesson_is_invoiced_at_its_price(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    booking = world.book(app, clock.now() + timedelta(days=3))
    changed(store, booking.id, lambda b: b.complete(b.slot.end))

    react(store, booking_completed, BookingCompleted(NOW, booking.id, school_id=booking.school_id))

    [invoice] = invoices_of(store, booking.id)
    assert invoice.outstanding == dkk("500.00")
    assert [line.service for line in invoice.lines] == [InvoiceService.LESSON]


def test_a_completed_package_lesson_is_not_invoiced(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    package_id, _ = paid_package(app, world)
    booking = world.book(app, clock.now() + timedelta(days=3), package_id=package_id)
    changed(store, booking.id, lambda b: b.complete(b.slot.end))

    react(store, booking_completed, BookingCompleted(NOW, booking.id, school_id=booking.school_id))

    assert invoices_of(store, booking.id) == []


def test_a_no_show_is_invoiced_its_fee(
    app: Application, world: World, clock: FrozenClock, store: MemoryStore
) -> None:
    booking = world.book(app, clock.now() + timedelta(days=3))
    changed(store, booking.id, lambda b: b.mark_no_show(b.slot.end, LATE_POLICY))

    react(
        store,
        booking_marked_no_show,
        BookingMarkedNoShow(NOW, booking.id, school_id=booking.school_id),
    )

    [invoice] = invoices_of(store, booking.id)
    assert [line.service for line in invoice.lines] == [InvoiceService.NO_SHOW_FEE]
    assert invoice.outstanding == LATE_POLICY.no_show_fee(dkk("500.00"))


def test_the_facade_returns_the_invoices_the_reactions_made(
    app: Application, world: World, clock: FrozenClock
) -> None:
    booking = world.book(app, clock.now() + timedelta(hours=12))

    outcome = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT)

    [invoice] = outcome.invoices
    assert invoice.booking_id == booking.id
    assert invoice.outstanding == dkk("250.00") == outcome.fee

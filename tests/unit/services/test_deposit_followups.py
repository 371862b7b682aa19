"""The reactions to deposit events, each on its own: a secured deposit confirms its booking, a
settled one is counted against the invoice (or its hold captured), a returned one gives the
money back — once, whatever the payment's state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.adapters.memory.persistence import MemoryUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus, CancelledBy
from justdriving.domain.deposits import Deposit, DepositStatus
from justdriving.domain.events import (
    DepositReturned,
    DepositSecured,
    DepositSettled,
    DomainEvent,
)
from justdriving.domain.ids import InvoiceId
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.followups.deposits import (
    deposit_returned,
    deposit_secured,
    deposit_settled,
)
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.reactions import REACTIONS
from justdriving.ports.persistence import UnitOfWork

from .support import (
    LATE_POLICY,
    NOW,
    World,
    build_world,
    deliver,
    dkk,
    outbox,
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


@pytest.fixture
def deposit_world(app: Application) -> World:
    return build_world(app, "Depositum Skole", with_settings(deposit_required=True))


def secured(
    app: Application,
    world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
    *,
    hold: bool,
) -> Deposit:
    """A booking whose deposit is held on the card (`hold`) or charged, through the facade."""
    ahead = timedelta(hours=72) if hold else timedelta(days=10)
    booking = world.book(app, clock.now() + ahead)
    started = app.start_deposit(world.school.id, booking.id)
    ref = started.session.provider_payment_id
    deliver(app, gateway.authorize(ref) if hold else gateway.succeed(ref))
    deposit: Deposit = record(store, "deposits", _deposit_of(store, booking.id))
    assert deposit.status is DepositStatus.SECURED
    return deposit


def _deposit_of(store: MemoryStore, booking_id: str) -> str:
    return next(d.id for d in store.records("deposits") if d.booking_id == booking_id)


def _set_booking(store: MemoryStore, booking_id: str, change: Callable[..., object]) -> None:
    with MemoryUnitOfWorkFactory(store)() as uow:
        change(uow.bookings.get(booking_id))
        uow.commit()


def test_each_deposit_event_is_registered_with_its_one_reaction() -> None:
    assert REACTIONS[DepositSecured] == (deposit_secured,)
    assert REACTIONS[DepositSettled] == (deposit_settled,)
    assert REACTIONS[DepositReturned] == (deposit_returned,)


def test_a_secured_deposit_confirms_its_pending_booking(
    app: Application,
    deposit_world: World,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    booking = deposit_world.book(app, clock.now() + timedelta(days=10))
    started = app.start_deposit(deposit_world.school.id, booking.id)
    assert record(store, "bookings", booking.id).status is BookingStatus.PENDING
    deposit_id = _deposit_of(store, booking.id)

    react(
        store,
        deposit_secured,
        DepositSecured(NOW, deposit_id, booking.id, school_id=booking.school_id),
    )

    assert record(store, "bookings", booking.id).status is BookingStatus.CONFIRMED
    assert record(store, "deposits", deposit_id).payment_id == started.payment.id


def test_a_deposit_secured_after_its_booking_ended_is_given_back(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=False)
    _set_booking(
        store, deposit.booking_id, lambda b: b.cancel(CancelledBy.SCHOOL, NOW, LATE_POLICY)
    )

    react(
        store,
        deposit_secured,
        DepositSecured(NOW, deposit.id, deposit.booking_id, school_id=deposit.school_id),
    )

    assert record(store, "deposits", deposit.id).status is DepositStatus.RETURNED
    assert record(store, "bookings", deposit.booking_id).status is BookingStatus.CANCELLED


def test_a_settled_charged_deposit_is_counted_against_the_invoice(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=False)
    lesson = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
    draft = app.draft_invoice(deposit_world.school.id, deposit_world.student.id, [lesson])
    invoice = app.issue_invoice(deposit_world.school.id, draft.id)

    react(
        store,
        deposit_settled,
        DepositSettled(
            NOW, deposit.id, deposit.payment_id, invoice.id, school_id=deposit.school_id
        ),
    )

    stored = record(store, "invoices", invoice.id)
    assert (stored.status, stored.outstanding) == (InvoiceStatus.PARTIALLY_PAID, dkk("400.00"))
    assert record(store, "payments", deposit.payment_id).invoice_id == invoice.id


def test_a_settled_hold_is_captured_for_the_invoice(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=True)
    invoice_id = InvoiceId("inv_lesson")

    react(
        store,
        deposit_settled,
        DepositSettled(
            NOW, deposit.id, deposit.payment_id, invoice_id, school_id=deposit.school_id
        ),
    )

    [capture] = outbox(store, OutboxKind.CAPTURE_PAYMENT)
    assert capture.payload == {"payment_id": deposit.payment_id}
    assert capture.idempotency_key == f"capture-{deposit.payment_id}"
    assert record(store, "payments", deposit.payment_id).invoice_id == invoice_id


def test_a_returned_hold_is_released_not_refunded(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=True)

    react(
        store,
        deposit_returned,
        DepositReturned(
            NOW, deposit.id, deposit.payment_id, deposit.amount, school_id=deposit.school_id
        ),
    )

    [cancel] = outbox(store, OutboxKind.CANCEL_PAYMENT)
    assert cancel.idempotency_key == f"cancel-{deposit.payment_id}"
    assert store.records("refunds") == []


def test_a_returned_charged_deposit_is_refunded_in_full(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=False)

    react(
        store,
        deposit_returned,
        DepositReturned(
            NOW, deposit.id, deposit.payment_id, deposit.amount, school_id=deposit.school_id
        ),
    )

    [refund] = store.records("refunds")
    assert isinstance(refund, Refund)
    assert (refund.payment_id, refund.amount) == (deposit.payment_id, dkk("100.00"))
    assert outbox(store, OutboxKind.CANCEL_PAYMENT) == []


def test_a_returned_deposit_refunds_only_what_was_not_refunded_already(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=False)
    app.refund(deposit_world.school.id, deposit.payment_id, amount=dkk("30.00"))

    react(
        store,
        deposit_returned,
        DepositReturned(
            NOW, deposit.id, deposit.payment_id, deposit.amount, school_id=deposit.school_id
        ),
    )

    amounts = sorted(r.amount.amount for r in store.records("refunds"))
    assert amounts == [3000, 7000]


def test_a_returned_deposit_whose_hold_the_provider_let_go_needs_nothing(
    app: Application,
    deposit_world: World,
    gateway: FakePaymentGateway,
    clock: FrozenClock,
    store: MemoryStore,
) -> None:
    deposit = secured(app, deposit_world, gateway, clock, store, hold=True)
    with MemoryUnitOfWorkFactory(store)() as uow:
        payment = uow.payments.get(deposit.payment_id)
        payment.status = PaymentStatus.CANCELED
        uow.commit()

    react(
        store,
        deposit_returned,
        DepositReturned(
            NOW, deposit.id, deposit.payment_id, deposit.amount, school_id=deposit.school_id
        ),
    )

    assert outbox(store, OutboxKind.CANCEL_PAYMENT) == []
    assert store.records("refunds") == []

"""Fees charged automatically when the school says so: a no-show or late-cancellation fee is
invoiced as always and, with `charge_fees_to_saved_card`, the relay charges that invoice to the
student's saved card with no human step; without the setting, or without a card, it stays
invoiced (today's behaviour)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.errors import ConcurrencyConflict
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.schools import MessageType
from justdriving.ports.persistence import UnitOfWorkFactory
from justdriving.relay.messages import Job

from .support import (
    World,
    build_world,
    deliver,
    dkk,
    messages,
    outbox,
    record,
    with_settings,
)

CHARGING = with_settings(charge_fees_to_saved_card=True)


def charging_world(app: Application) -> World:
    return build_world(app, "Køreskolen Kort", CHARGING)


def save_card(
    app: Application, world: World, gateway: FakePaymentGateway, card: str = "pm_card_visa"
) -> None:
    setup = app.start_saving_card(world.school.id, world.student.id)
    deliver(app, gateway.complete_setup(setup.session.provider_setup_id, card))


def no_show(app: Application, world: World, clock: FrozenClock) -> str:
    """A lesson tomorrow the student does not come to; its fee's invoice."""
    booking = world.book(app, clock.now() + timedelta(days=1))
    clock.set(booking.slot.start + timedelta(minutes=15))
    [invoice] = app.mark_no_show(world.school.id, booking.id).invoices
    return invoice.id


def test_a_no_show_fee_is_charged_to_the_saved_card_with_no_human_step(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = charging_world(app)
    save_card(app, world, gateway)

    invoice_id = no_show(app, world, clock)
    assert record(store, "invoices", invoice_id).status is InvoiceStatus.OPEN
    app.relay_outbox()

    invoice = record(store, "invoices", invoice_id)
    assert invoice.status is InvoiceStatus.PAID
    payment = record(store, "payments", invoice.online_payment_id)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.charge_reason == f"no_show_fee:{invoice.booking_id}"
    assert messages(store, MessageType.PAYMENT_RECEIPT)
    [row] = outbox(store, OutboxKind.CHARGE_CUSTOMER)
    assert row.status is OutboxStatus.SENT


def test_a_late_cancellation_fee_is_charged_the_same_way(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = charging_world(app)
    save_card(app, world, gateway)
    booking = world.book(app, clock.now() + timedelta(hours=26))
    clock.set(booking.slot.start - timedelta(hours=12))

    [invoice] = app.cancel_booking(world.school.id, booking.id, by=CancelledBy.STUDENT).invoices
    app.relay_outbox()

    stored = record(store, "invoices", invoice.id)
    assert stored.status is InvoiceStatus.PAID
    assert stored.paid == dkk("250.00")  # 50 % within 24 hours


def test_without_the_setting_the_fee_is_invoiced_as_before(
    app: Application,
    world: World,
    clock: FrozenClock,
    store: MemoryStore,
    gateway: FakePaymentGateway,
) -> None:
    save_card(app, world, gateway)

    invoice_id = no_show(app, world, clock)
    app.relay_outbox()

    assert outbox(store, OutboxKind.CHARGE_CUSTOMER) == []
    assert record(store, "invoices", invoice_id).status is InvoiceStatus.OPEN
    assert not any(c.payment_id for c in gateway.charges.values())


def test_a_student_without_a_saved_card_keeps_the_invoice_to_pay_by_link(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = charging_world(app)

    invoice_id = no_show(app, world, clock)
    app.relay_outbox()

    assert record(store, "invoices", invoice_id).status is InvoiceStatus.OPEN
    [row] = outbox(store, OutboxKind.CHARGE_CUSTOMER)
    assert row.status is OutboxStatus.SENT  # nothing to do, nothing retried
    assert gateway.charges == {}


def test_a_card_the_bank_wants_confirmed_gets_the_student_a_pay_link(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = charging_world(app)
    save_card(app, world, gateway, "pm_card_authenticationRequired")
    setup = next(iter(gateway.setups.values()))
    deliver(app, gateway.authenticate_setup(setup.provider_setup_id))

    invoice_id = no_show(app, world, clock)
    app.relay_outbox()

    invoice = record(store, "invoices", invoice_id)
    assert record(store, "payments", invoice.online_payment_id).status is (
        PaymentStatus.REQUIRES_ACTION
    )
    assert messages(store, MessageType.PAYMENT_ACTION_REQUIRED)


def test_a_fee_charged_by_the_relay_and_asked_for_directly_is_charged_once(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = charging_world(app)
    save_card(app, world, gateway)
    invoice_id = no_show(app, world, clock)
    booking_id = record(store, "invoices", invoice_id).booking_id

    direct = app.charge_customer(
        world.school.id, invoice_id, ChargeReason(ChargeKind.NO_SHOW_FEE, booking_id)
    )
    app.relay_outbox()

    assert record(store, "invoices", invoice_id).online_payment_id == direct.id
    assert sum(1 for c in gateway.charges.values() if c.payment_id == direct.id) == 1
    assert len(gateway.charges) == 1


def record_once(uows: UnitOfWorkFactory, job: Job, result: object, now: datetime) -> None:
    with uows() as uow:
        job.record(uow, result, now)
        uow.commit()


def test_a_charge_whose_recording_failed_once_still_pays_its_invoice_when_recorded_again(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    """The relay records a round's outcomes in one transaction and, when that fails (another
    row's conflict), each again on its own: the charge's second recording must start from the
    payment as prepared, not as the failed try left it."""
    world = charging_world(app)
    save_card(app, world, gateway)
    invoice_id = no_show(app, world, clock)
    [row] = outbox(store, OutboxKind.CHARGE_CUSTOMER)
    relayed = app.relay._uow  # the relay's unit of work: commits run the reactions
    with relayed() as uow:
        job = app.relay._prepare(uow, row)
    assert isinstance(job, Job)
    result = job.perform()

    store.fail_next_commit(ConcurrencyConflict("another row of the round changed"))
    with pytest.raises(ConcurrencyConflict):
        record_once(relayed, job, result, clock.now())
    record_once(relayed, job, result, clock.now())

    invoice = record(store, "invoices", invoice_id)
    assert invoice.status is InvoiceStatus.PAID
    assert record(store, "payments", invoice.online_payment_id).status is PaymentStatus.SUCCEEDED
    assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2  # SMS and email, once each

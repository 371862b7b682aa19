"""A deposit for a lesson further off than a card hold lasts, where the school charges lapsing
holds to the saved card: held at booking, charged to the saved card when the hold would lapse
(once, whatever the worker does), the hold released, and the charge counted against the lesson
like any deposit. Without the setting or a saved card it is charged at booking, as before."""

from __future__ import annotations

from datetime import timedelta

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.bookings import BookingStatus
from justdriving.domain.deposits import HOLD_WINDOW, DepositStatus
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.payments import CaptureMode, PaymentStatus

from .support import World, build_world, deliver, dkk, record, with_settings

HOLDING = with_settings(deposit_required=True, charge_deposit_at_hold_lapse=True)


def save_card(app: Application, world: World, gateway: FakePaymentGateway) -> str:
    setup = app.start_saving_card(world.school.id, world.student.id)
    deliver(app, gateway.complete_setup(setup.session.provider_setup_id, "pm_card_visa"))
    [card] = gateway.saved_cards
    return card


def held_far_ahead(
    app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway
) -> tuple[str, str]:
    """A lesson twenty days ahead whose deposit is held on the card: (booking, hold)."""
    booking = world.book(app, clock.now() + timedelta(days=20))
    started = app.start_deposit(world.school.id, booking.id)
    assert started.payment.capture_mode is CaptureMode.MANUAL
    deliver(app, gateway.authorize(started.session.provider_payment_id))
    return booking.id, started.payment.id


def test_the_deposit_is_charged_to_the_saved_card_when_the_hold_would_lapse(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = build_world(app, "Depositum Skole", HOLDING)
    save_card(app, world, gateway)
    booking_id, hold_id = held_far_ahead(app, world, clock, gateway)
    assert record(store, "bookings", booking_id).status is BookingStatus.CONFIRMED

    clock.advance(HOLD_WINDOW - timedelta(hours=1))
    assert app.charge_lapsing_deposits() == 0  # the hold still holds
    clock.advance(timedelta(hours=1))
    assert app.charge_lapsing_deposits() == 1
    assert app.charge_lapsing_deposits() == 0  # once
    app.relay_outbox()  # the hold released at the provider

    deposit = store.records("deposits")[0]
    charge = record(store, "payments", deposit.payment_id)
    assert deposit.status is DepositStatus.SECURED
    assert (charge.status, charge.amount) == (PaymentStatus.SUCCEEDED, dkk("100.00"))
    assert charge.charge_reason == f"deposit:{booking_id}"
    hold_ref = record(store, "payments", hold_id).provider_payment_id
    assert gateway.charges[hold_ref].status is PaymentStatus.CANCELED

    booking = record(store, "bookings", booking_id)
    clock.set(booking.slot.end + timedelta(minutes=5))
    [invoice] = app.complete_lesson(world.school.id, booking_id).invoices
    stored = record(store, "invoices", invoice.id)
    assert (stored.status, stored.outstanding) == (InvoiceStatus.PARTIALLY_PAID, dkk("400.00"))


def test_a_declined_charge_leaves_the_hold_to_lapse_and_is_not_tried_again(
    app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
) -> None:
    world = build_world(app, "Depositum Skole", HOLDING)
    card = save_card(app, world, gateway)
    _, hold_id = held_far_ahead(app, world, clock, gateway)
    gateway.decline_next_charge(card, "insufficient_funds")
    clock.advance(HOLD_WINDOW)

    assert app.charge_lapsing_deposits() == 0
    assert app.charge_lapsing_deposits() == 0

    deposit = store.records("deposits")[0]
    assert deposit.payment_id == hold_id
    assert record(store, "payments", hold_id).status is PaymentStatus.AUTHORIZED
    assert len([c for c in gateway.charges.values() if c.payment_id != hold_id]) == 1


def test_without_a_saved_card_or_the_setting_a_far_deposit_is_charged_at_booking(
    app: Application, clock: FrozenClock, gateway: FakePaymentGateway
) -> None:
    holding = build_world(app, "Depositum Skole", HOLDING)
    plain = build_world(app, "Almindelig Skole", with_settings(deposit_required=True))
    save_card(app, plain, gateway)

    for world in (holding, plain):
        booking = world.book(app, clock.now() + timedelta(days=20))
        started = app.start_deposit(world.school.id, booking.id)
        assert started.payment.capture_mode is CaptureMode.AUTOMATIC

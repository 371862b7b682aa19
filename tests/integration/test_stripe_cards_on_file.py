"""Cards on file on Stripe, end to end: the use cases on SQLite and PostgreSQL, StripeGateway
through the real SDK against the Stripe simulator, webhooks through the inbox.

A card is saved (3-D Secure where the test card asks), listed and charged for a no-show fee;
a card whose bank wants the student on every payment gets a payment waiting for them, Stripe's
`payment_intent.payment_failed` (authentication_required) does not fail it, the pay link's
checkout replaces it (the waiting PaymentIntent is canceled at Stripe by the relay) and the
student pays; a declined card is charged again only after a retryable decline.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import define
from integration_support import build_world

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.saved_methods import customer_id_for
from justdriving.domain.schools import InvoiceService, MessageType, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.testing.stripe.simulator import Delivery, StripeSimulator

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
FEE = LineItem(InvoiceService.NO_SHOW_FEE, "Udeblivelse", Money(30000, "DKK"))
NO_SHOW = ChargeReason(ChargeKind.NO_SHOW_FEE, "bk_1")


@define
class Platform:
    app: Application
    uow: SqlUnitOfWorkFactory
    stripe: StripeSimulator
    school_id: str
    student_id: str

    def receive(self, delivery: Delivery) -> list[EventOutcome]:
        return self.app.receive_payment_webhook("stripe", *delivery)

    def last(self, event_type: str) -> Delivery:
        event = next(e for e in reversed(self.stripe.events) if e["type"] == event_type)
        return self.stripe.deliver(event)

    def save_card(self, card: str) -> str:
        setup = self.app.start_saving_card(self.school_id, self.student_id)
        seti = setup.session.provider_setup_id
        assert setup.session.client_secret
        self.receive(self.stripe.complete_setup(seti, card))
        if self.stripe.wallet.setup_intent(seti)["status"] == "requires_action":
            assert self.app.saved_payment_methods(self.school_id, self.student_id) == []
            self.receive(self.stripe.authenticate_setup(seti))
        return str(self.stripe.wallet.setup_intent(seti)["payment_method"])

    def fee_invoice(self) -> str:
        draft = self.app.draft_invoice(self.school_id, self.student_id, [FEE])
        return self.app.issue_invoice(self.school_id, draft.id).id

    def read(self, kind: str, ident: str) -> Any:
        with self.uow() as uow:
            return getattr(uow, kind).get(ident)


@pytest.fixture
def platform(uow: SqlUnitOfWorkFactory) -> Iterator[Platform]:
    clock = FrozenClock(NOW)
    with StripeSimulator(clock=clock) as stripe:
        gateway = StripeGateway(stripe.secret_key, stripe.webhook_secret, api_base=stripe.api_base)
        app = Application(
            uow=uow,
            clock=clock,
            gateways=MemoryGatewayRegistry({"stripe": gateway}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        world = build_world(app)
        yield Platform(app, uow, stripe, world.school.id, world.student.id)


def test_a_saved_card_is_listed_and_charged_for_a_no_show_fee(platform: Platform) -> None:
    card = platform.save_card("pm_card_visa")
    [shown] = platform.app.saved_payment_methods(platform.school_id, platform.student_id)
    assert (shown.provider_method_id, shown.brand, shown.last4) == (card, "visa", "4242")
    invoice_id = platform.fee_invoice()

    payment = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert payment.status is PaymentStatus.SUCCEEDED
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.PAID
    intent = platform.stripe.payment_intents[payment.provider_payment_id or ""]
    customer = platform.read(
        "payment_customers", customer_id_for(platform.school_id, platform.student_id, "stripe")
    )
    assert (intent["customer"], intent["payment_method"]) == (customer.provider_customer_id, card)
    assert intent["status"] == "succeeded"
    assert intent["metadata"]["payment_id"] == payment.id
    assert platform.receive(platform.last("payment_intent.succeeded")) == [EventOutcome.IGNORED]
    again = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    assert again.id == payment.id
    assert len(platform.stripe.payment_intents) == 1


def test_a_charge_the_bank_wants_authenticated_waits_and_the_pay_link_checkout_pays_it(
    platform: Platform,
) -> None:
    platform.save_card("pm_card_authenticationRequired")
    invoice_id = platform.fee_invoice()

    waiting = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert waiting.status is PaymentStatus.REQUIRES_ACTION
    failed = platform.last("payment_intent.payment_failed")
    platform.receive(failed)
    assert platform.read("payments", waiting.id).status is PaymentStatus.REQUIRES_ACTION
    with platform.uow() as uow:
        sent = [
            m
            for m in uow.messages.for_school(platform.school_id)
            if m.type is MessageType.PAYMENT_ACTION_REQUIRED
        ]
    assert {str(m.channel) for m in sent} == {"sms", "email"}

    started = platform.app.start_invoice_payment(
        platform.school_id, invoice_id, return_url="https://school.example/paid"
    )
    assert started.payment.id != waiting.id
    platform.app.relay_outbox()  # cancels the waiting PaymentIntent at Stripe
    intent = platform.stripe.payment_intents[waiting.provider_payment_id or ""]
    assert intent["status"] == "canceled"
    platform.receive(platform.stripe.succeed(started.session.provider_payment_id))
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.PAID
    platform.receive(platform.last("payment_intent.canceled"))
    assert platform.read("payments", waiting.id).status is PaymentStatus.CANCELED


def test_insufficient_funds_is_retried_and_the_retry_pays(platform: Platform) -> None:
    card = platform.save_card("pm_card_visa")
    invoice_id = platform.fee_invoice()
    platform.stripe.decline_next_charge(card, "insufficient_funds")

    declined = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)

    assert (declined.status, declined.failure_reason) == (
        PaymentStatus.FAILED,
        "insufficient_funds",
    )
    paid = platform.app.charge_customer(platform.school_id, invoice_id, NO_SHOW)
    assert paid.status is PaymentStatus.SUCCEEDED
    assert platform.read("invoices", invoice_id).status is InvoiceStatus.PAID
    assert len(platform.stripe.payment_intents) == 2


def test_a_school_that_charges_fees_gets_a_no_show_paid_by_the_relay(platform: Platform) -> None:
    app = platform.app
    school = app.register_school(
        "Køreskolen Kort",
        currency="DKK",
        timezone="Europe/Copenhagen",
        settings=SchoolSettings(charge_fees_to_saved_card=True),
    )
    teacher = app.add_teacher(school.id, "Lars Lærer", phone="+45 30 11 22 33")
    student = app.add_student(school.id, "Bo Berg", phone="20 98 76 54", email="bo@example.dk")
    lesson = app.add_booking_type(
        school.id, "Køretime", duration=timedelta(minutes=45), price=Money(50000, "DKK")
    )
    platform = Platform(app, platform.uow, platform.stripe, school.id, student.id)
    platform.save_card("pm_card_visa")
    booking = app.book_lesson(
        school.id,
        teacher_id=teacher.id,
        student_ids=[student.id],
        booking_type_id=lesson.id,
        start=NOW + timedelta(days=1),
    )
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.set(booking.slot.start + timedelta(minutes=15))
    [invoice] = app.mark_no_show(school.id, booking.id).invoices

    app.relay_outbox()

    assert platform.read("invoices", invoice.id).status is InvoiceStatus.PAID
    [intent] = [
        pi
        for pi in platform.stripe.payment_intents.values()
        if pi["metadata"].get("invoice_id") == invoice.id
    ]
    assert (intent["status"], intent["amount"]) == ("succeeded", 50000)

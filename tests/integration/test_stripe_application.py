"""The use cases on Stripe: pay an invoice, take the webhook, refund through the relay.

The application runs on the in-memory fakes, except the payment gateway: StripeGateway through
the real SDK against the local Stripe simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from attrs import define

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import EventOutcome, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.payment_starts import StartedPayment
from justdriving.testing.stripe.simulator import StripeSimulator

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
LESSON = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))


@define
class Platform:
    app: Application
    store: MemoryStore
    simulator: StripeSimulator
    school_id: str
    student_id: str

    def pay_invoice(self, return_url: str | None = None) -> StartedPayment:
        draft = self.app.draft_invoice(self.school_id, self.student_id, [LESSON])
        invoice = self.app.issue_invoice(self.school_id, draft.id)
        return self.app.start_invoice_payment(self.school_id, invoice.id, return_url=return_url)

    def receive(self, delivery: tuple[bytes, dict[str, str]]) -> list[EventOutcome]:
        return self.app.receive_payment_webhook("stripe", *delivery)

    def record(self, table: str, ident: str) -> Any:
        stored = self.store.read(table, ident)
        assert stored is not None
        return stored.record


@contextmanager
def platform(refund_status: str = "succeeded") -> Iterator[Platform]:
    clock, store = FrozenClock(NOW), MemoryStore()
    with StripeSimulator(clock=clock, refund_status=refund_status) as simulator:
        gateway = StripeGateway(
            simulator.secret_key, simulator.webhook_secret, api_base=simulator.api_base
        )
        app = Application(
            uow=MemoryUnitOfWorkFactory(store),
            clock=clock,
            gateways=MemoryGatewayRegistry({"stripe": gateway}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        school = app.register_school(
            "Køreskolen Øst",
            currency="DKK",
            timezone="Europe/Copenhagen",
            phone_region="DK",
            vat_number="DK12345678",
            settings=SchoolSettings(),
        )
        student = app.add_student(
            school.id, "Anna Andersen", phone="20 12 34 56", email="anna@example.dk"
        )
        yield Platform(app, store, simulator, school.id, student.id)


@pytest.fixture
def on_stripe() -> Iterator[Platform]:
    with platform() as running:
        yield running


@pytest.mark.parametrize(
    "return_url", [None, "https://school.example/paid"], ids=["element", "checkout"]
)
def test_a_paid_invoice_is_paid_once_however_often_stripe_tells_us(
    on_stripe: Platform, return_url: str | None
) -> None:
    started = on_stripe.pay_invoice(return_url)
    delivery = on_stripe.simulator.succeed(started.session.provider_payment_id)

    assert on_stripe.receive(delivery) == [EventOutcome.APPLIED]
    assert on_stripe.receive(delivery) == [EventOutcome.IGNORED]  # Stripe sends twice
    # The PaymentIntent's own event for the same payment changes nothing more.
    intent_event = next(
        e for e in on_stripe.simulator.events if e["type"] == "payment_intent.succeeded"
    )
    assert on_stripe.receive(on_stripe.simulator.deliver(intent_event)) == [EventOutcome.IGNORED]

    payment = on_stripe.record("payments", started.payment.id)
    assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, Money(50000, "DKK"))
    assert on_stripe.record("invoices", payment.invoice_id).status is InvoiceStatus.PAID


def test_a_refund_goes_out_through_the_relay_and_lands_by_webhook() -> None:
    with platform(refund_status="pending") as stripe:
        started = stripe.pay_invoice("https://school.example/paid")
        stripe.receive(stripe.simulator.succeed(started.session.provider_payment_id))
        refund = stripe.app.refund(stripe.school_id, started.payment.id, amount=Money(20000, "DKK"))

        stripe.app.relay_outbox()
        [sent] = stripe.simulator.refunds.values()
        assert (sent["amount"], sent["metadata"]["refund_id"]) == (20000, refund.id)
        assert stripe.record("refunds", refund.id).status is RefundStatus.PENDING

        assert stripe.receive(stripe.simulator.complete_refund(sent["id"])) == [
            EventOutcome.APPLIED
        ]
        assert stripe.record("refunds", refund.id).status is RefundStatus.SUCCEEDED
        assert stripe.record("payments", started.payment.id).refunded == Money(20000, "DKK")


def test_a_dispute_on_a_payment_element_payment_is_recorded(on_stripe: Platform) -> None:
    started = on_stripe.pay_invoice()
    on_stripe.receive(on_stripe.simulator.succeed(started.session.provider_payment_id))
    outcomes = on_stripe.receive(on_stripe.simulator.dispute(started.session.provider_payment_id))
    assert outcomes == [EventOutcome.APPLIED]


def test_a_dispute_on_a_checkout_payment_is_recorded(on_stripe: Platform) -> None:
    started = on_stripe.pay_invoice("https://school.example/paid")
    on_stripe.receive(on_stripe.simulator.succeed(started.session.provider_payment_id))
    outcomes = on_stripe.receive(on_stripe.simulator.dispute(started.session.provider_payment_id))
    assert outcomes == [EventOutcome.APPLIED]


@pytest.mark.parametrize(
    ("return_url", "event_type", "amount_field"),
    [
        (None, "payment_intent.succeeded", "amount_received"),
        ("https://school.example/paid", "checkout.session.completed", "amount_total"),
    ],
    ids=["element", "checkout"],
)
def test_a_signed_success_that_states_no_amount_holds_the_payment_for_review(
    on_stripe: Platform, return_url: str | None, event_type: str, amount_field: str
) -> None:
    started = on_stripe.pay_invoice(return_url)
    on_stripe.simulator.succeed(started.session.provider_payment_id)  # not delivered as sent
    event = next(e for e in reversed(on_stripe.simulator.events) if e["type"] == event_type)
    del event["data"]["object"][amount_field]

    assert on_stripe.receive(on_stripe.simulator.deliver(event)) == [EventOutcome.HELD]

    payment = on_stripe.record("payments", started.payment.id)
    assert (payment.status, payment.captured) == (
        PaymentStatus.HELD_FOR_REVIEW,
        Money(0, "DKK"),
    )
    assert on_stripe.record("invoices", payment.invoice_id).status is InvoiceStatus.OPEN

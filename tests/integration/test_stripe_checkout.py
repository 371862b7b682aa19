"""Stripe's hosted Checkout through StripeGateway, the real SDK and the simulator.

With a return_url the gateway opens a Checkout Session: `start` returns its `cs_…` id and page;
Stripe creates the PaymentIntent only when the payer confirms, so capture, cancel and refund
look it up from the Session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind as Kind
from justdriving.domain.payments import CaptureMode
from justdriving.domain.people import EmailAddress
from justdriving.ports.payments import PaymentRequest, RefundRequest
from justdriving.testing.stripe.simulator import StripeSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")
RETURN_URL = "https://school.example/paid"


@pytest.fixture
def simulator() -> Iterator[StripeSimulator]:
    with StripeSimulator(clock=FrozenClock(NOW)) as running:
        yield running


@pytest.fixture
def gateway(simulator: StripeSimulator) -> StripeGateway:
    return StripeGateway(
        simulator.secret_key, simulator.webhook_secret, api_base=simulator.api_base
    )


def a_request(capture_mode: CaptureMode = CaptureMode.AUTOMATIC) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=PRICE,
        description="Driving lesson, 14 March",
        idempotency_key=new_id("key"),
        capture_mode=capture_mode,
        customer_email=EmailAddress("elev@example.dk"),
        return_url=RETURN_URL,
        metadata={"invoice_id": "inv_1"},
    )


def a_refund(ref: str, amount: Money) -> RefundRequest:
    return RefundRequest(new_id("re"), ref, amount, "requested_by_customer", new_id("key"))


def test_start_opens_a_hosted_page_for_one_line_with_our_ids_everywhere(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request()
    session = gateway.start(request)
    stored = simulator.sessions[session.provider_payment_id]
    assert session.provider_payment_id.startswith("cs_")
    assert session.redirect_url == stored["url"]
    assert session.client_secret is None
    assert (stored["amount_total"], stored["currency"]) == (50000, "dkk")
    assert (stored["success_url"], stored["cancel_url"]) == (RETURN_URL, RETURN_URL)
    assert (stored["client_reference_id"], stored["customer_email"]) == (
        request.payment_id,
        "elev@example.dk",
    )
    ours = {"payment_id": request.payment_id, "school_id": "sch_1", "invoice_id": "inv_1"}
    assert stored["metadata"] == {**ours, "capture_method": "automatic"}
    assert simulator.payment_intents == {}  # Stripe creates it when the payer confirms


def test_the_payment_intent_stripe_creates_carries_our_metadata(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request()
    ref = gateway.start(request).provider_payment_id
    simulator.succeed(ref)
    intent = simulator.payment_intents[simulator.sessions[ref]["payment_intent"]]
    assert intent["metadata"]["payment_id"] == request.payment_id
    assert intent["description"] == request.description


def test_a_held_checkout_is_captured_through_its_session(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request(CaptureMode.MANUAL)).provider_payment_id
    [held] = gateway.parse_webhook(*simulator.authorize(ref), NOW)
    assert held.kind is Kind.AUTHORIZED
    gateway.capture(ref, PRICE, "capture-1")
    gateway.capture(ref, PRICE, "capture-1")  # a retry: replayed
    intent = simulator.payment_intents[simulator.sessions[ref]["payment_intent"]]
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 50000)


def test_nothing_can_be_captured_or_refunded_before_the_payer_pays(
    gateway: StripeGateway,
) -> None:
    ref = gateway.start(a_request(CaptureMode.MANUAL)).provider_payment_id
    with pytest.raises(ProviderRejected):
        gateway.capture(ref, PRICE, new_id("key"))
    with pytest.raises(ProviderRejected):
        gateway.refund(a_refund(ref, PRICE))


def test_cancelling_an_open_checkout_expires_it_and_a_retry_is_fine(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    gateway.cancel(ref, "cancel-1")
    gateway.cancel(ref, "cancel-1")
    assert simulator.sessions[ref]["status"] == "expired"
    [event] = gateway.parse_webhook(*simulator.deliver(simulator.events[-1]), NOW)
    assert (event.kind, event.provider_payment_id) == (Kind.CANCELED, ref)


def test_cancelling_a_held_checkout_releases_the_card(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request(CaptureMode.MANUAL)).provider_payment_id
    simulator.authorize(ref)
    gateway.cancel(ref, "cancel-1")
    intent = simulator.payment_intents[simulator.sessions[ref]["payment_intent"]]
    assert intent["status"] == "canceled"


def test_a_paid_checkout_cannot_be_cancelled(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    simulator.succeed(ref)
    with pytest.raises(ProviderRejected) as raised:
        gateway.cancel(ref, new_id("key"))
    assert raised.value.provider_code == "payment_intent_unexpected_state"


def test_partial_refunds_of_a_checkout_never_exceed_what_was_paid(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request()
    ref = gateway.start(request).provider_payment_id
    simulator.succeed(ref)
    gateway.refund(a_refund(ref, Money(30000, "DKK")))
    with pytest.raises(ProviderRejected):
        gateway.refund(a_refund(ref, Money(20001, "DKK")))
    gateway.refund(a_refund(ref, Money(20000, "DKK")))
    refunds = simulator.refunds_of(ref)
    assert sorted(r["amount"] for r in refunds) == [20000, 30000]
    assert {r["metadata"]["payment_id"] for r in refunds} == {request.payment_id}


def test_a_payers_retry_after_a_decline_on_the_page_succeeds(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    [failed] = gateway.parse_webhook(
        *simulator.fail(ref, "card_declined", "insufficient_funds"), NOW
    )
    [paid] = gateway.parse_webhook(*simulator.succeed(ref), NOW)
    assert (failed.kind, failed.failure_code) == (Kind.FAILED, "insufficient_funds")
    assert (paid.kind, paid.provider_payment_id, paid.payment_id) == (
        Kind.SUCCEEDED,
        simulator.sessions[ref]["payment_intent"],
        failed.payment_id,
    )


def test_cancelling_a_checkout_stripe_already_expired_is_done(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    simulator.expire_checkout(ref)
    gateway.cancel(ref, new_id("key"))
    assert simulator.sessions[ref]["status"] == "expired"

"""Stripe events, as the simulator sends them, parsed into provider-neutral payment events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("stripe")

from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.payments.stripe.gateway import StripeGateway
from justdriving.domain.errors import MalformedWebhook
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind as Kind
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.ports.payments import (
    ChargeStatus,
    CustomerRequest,
    PaymentRequest,
    RefundRequest,
    SavedChargeRequest,
    SetupRequest,
)
from justdriving.testing.stripe.simulator import Delivery, StripeSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")


class Stripe:
    """A gateway on a simulator, and shortcuts to start payments and read deliveries."""

    def __init__(self, simulator: StripeSimulator, hosted: bool) -> None:
        self.simulator = simulator
        self.gateway = StripeGateway(
            simulator.secret_key,
            simulator.webhook_secret,
            api_base=simulator.api_base,
            hosted_checkout=hosted,
        )

    def start(
        self, mode: CaptureMode = CaptureMode.AUTOMATIC, amount: Money = PRICE
    ) -> tuple[str, str]:
        """(our payment id, the provider's reference)."""
        payment_id = new_id("pay")
        request = PaymentRequest(
            payment_id=payment_id,
            school_id="sch_1",
            amount=amount,
            description="Driving lesson",
            idempotency_key=new_id("key"),
            capture_mode=mode,
            return_url="https://school.example/return",
        )
        return payment_id, self.gateway.start(request).provider_payment_id

    def parse(self, delivery: Delivery) -> list[ProviderPaymentEvent]:
        return self.gateway.parse_webhook(*delivery, self.simulator.now())

    def one(self, delivery: Delivery) -> ProviderPaymentEvent:
        [event] = self.parse(delivery)
        return event

    def last(self, event_type: str) -> Delivery:
        event = next(e for e in reversed(self.simulator.events) if e["type"] == event_type)
        return self.simulator.deliver(event)

    def paid(self) -> tuple[str, str]:
        payment_id, ref = self.start()
        self.simulator.succeed(ref)
        return payment_id, ref

    def refund(self, ref: str, amount: Money) -> tuple[str, str]:
        refund_id = new_id("re")
        result = self.gateway.refund(
            RefundRequest(refund_id, ref, amount, "requested_by_customer", new_id("key"))
        )
        return refund_id, result.provider_refund_id


@pytest.fixture
def stripe() -> Iterator[Stripe]:
    with StripeSimulator(clock=FrozenClock(NOW)) as simulator:
        yield Stripe(simulator, hosted=False)


@pytest.fixture
def checkout() -> Iterator[Stripe]:
    with StripeSimulator(clock=FrozenClock(NOW)) as simulator:
        yield Stripe(simulator, hosted=True)


# PaymentIntents --------------------------------------------------------------------------


def test_a_succeeded_payment_intent_reports_the_amount_received(stripe: Stripe) -> None:
    payment_id, ref = stripe.start()
    event = stripe.one(stripe.simulator.succeed(ref, 40000))
    assert (event.kind, event.raw_type) == (Kind.SUCCEEDED, "payment_intent.succeeded")
    assert (event.payment_id, event.provider_payment_id) == (payment_id, ref)
    assert event.amount == Money(40000, "DKK")
    assert event.occurred_at == NOW
    assert event.event_id.startswith("evt_")


def test_a_held_card_is_authorized_for_the_capturable_amount(stripe: Stripe) -> None:
    payment_id, ref = stripe.start(CaptureMode.MANUAL)
    event = stripe.one(stripe.simulator.authorize(ref))
    assert (event.kind, event.raw_type) == (
        Kind.AUTHORIZED,
        "payment_intent.amount_capturable_updated",
    )
    assert (event.payment_id, event.amount) == (payment_id, PRICE)


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("payment_intent.succeeded", Kind.SUCCEEDED),
        ("payment_intent.amount_capturable_updated", Kind.AUTHORIZED),
        ("checkout.session.completed", Kind.SUCCEEDED),
    ],
)
@pytest.mark.off_spec("a payload that lacks the amounts Stripe's objects always carry")
def test_a_success_or_hold_that_states_no_amount_reports_none(
    stripe: Stripe, event_type: str, kind: Kind
) -> None:
    # The domain holds such a payment for review: an amount nobody stated is never assumed.
    obj = {"id": "pi_1", "currency": "dkk", "metadata": {"payment_id": "pay_1"}}
    if event_type.startswith("checkout."):
        obj |= {"id": "cs_1", "payment_intent": "pi_1", "payment_status": "paid"}
    event = stripe.one(stripe.simulator.webhook(event_type, obj))
    assert (event.kind, event.payment_id, event.amount) == (kind, "pay_1", None)


@pytest.mark.off_spec("a bare PaymentIntent: only the fields the parser reads")
def test_a_hold_whose_capturable_amount_fell_to_zero_is_not_a_hold(stripe: Stripe) -> None:
    obj = {"id": "pi_1", "amount_capturable": 0, "currency": "dkk"}
    event = stripe.one(stripe.simulator.webhook("payment_intent.amount_capturable_updated", obj))
    assert event.kind is Kind.UNKNOWN


@pytest.mark.parametrize(
    ("code", "decline_code", "failure"),
    [("card_declined", None, "card_declined"),
     ("card_declined", "insufficient_funds", "insufficient_funds"),
     ("expired_card", None, "expired_card")],
)  # fmt: skip
def test_a_failed_attempt_reports_the_decline_code_before_the_error_code(
    stripe: Stripe, code: str, decline_code: str | None, failure: str
) -> None:
    payment_id, ref = stripe.start()
    event = stripe.one(stripe.simulator.fail(ref, code, decline_code))
    assert (event.kind, event.failure_code, event.payment_id) == (Kind.FAILED, failure, payment_id)


def test_requires_action_and_processing_map_to_their_kinds(stripe: Stripe) -> None:
    _, ref = stripe.start()
    assert stripe.one(stripe.simulator.require_action(ref)).kind is Kind.REQUIRES_ACTION
    assert stripe.one(stripe.simulator.process(ref)).kind is Kind.PROCESSING


def test_a_cancelled_payment_intent_is_canceled(stripe: Stripe) -> None:
    payment_id, ref = stripe.start()
    stripe.gateway.cancel(ref, new_id("key"))
    event = stripe.one(stripe.last("payment_intent.canceled"))
    assert (event.kind, event.payment_id, event.provider_payment_id) == (
        Kind.CANCELED,
        payment_id,
        ref,
    )


def test_a_captured_payment_intent_succeeds_with_the_captured_amount(stripe: Stripe) -> None:
    _, ref = stripe.start(CaptureMode.MANUAL)
    stripe.simulator.authorize(ref)
    stripe.gateway.capture(ref, Money(30000, "DKK"), new_id("key"))
    event = stripe.one(stripe.last("payment_intent.succeeded"))
    assert (event.kind, event.amount) == (Kind.SUCCEEDED, Money(30000, "DKK"))


def test_amounts_come_back_in_our_minor_units(stripe: Stripe) -> None:
    for amount in (Money(5000, "JPY"), Money(500, "ISK"), Money(5120, "KWD")):
        _, ref = stripe.start(amount=amount)
        assert stripe.one(stripe.simulator.succeed(ref)).amount == amount


# Checkout Sessions -----------------------------------------------------------------------


def test_a_paid_checkout_succeeds_naming_its_payment_intent(checkout: Stripe) -> None:
    payment_id, ref = checkout.start()
    event = checkout.one(checkout.simulator.succeed(ref))
    intent = checkout.simulator.sessions[ref]["payment_intent"]
    assert (event.kind, event.raw_type) == (Kind.SUCCEEDED, "checkout.session.completed")
    assert (event.payment_id, event.provider_payment_id, event.amount) == (
        payment_id,
        intent,
        PRICE,
    )


def test_a_completed_checkout_holding_a_card_is_authorized(checkout: Stripe) -> None:
    payment_id, ref = checkout.start(CaptureMode.MANUAL)
    event = checkout.one(checkout.simulator.authorize(ref))
    assert (event.kind, event.payment_id, event.amount) == (Kind.AUTHORIZED, payment_id, PRICE)


def test_a_completed_checkout_paid_by_bank_debit_is_processing_then_settles(
    checkout: Stripe,
) -> None:
    payment_id, ref = checkout.start()
    assert checkout.one(checkout.simulator.process(ref)).kind is Kind.PROCESSING
    settled = checkout.one(checkout.simulator.settle(ref))
    assert (settled.kind, settled.raw_type) == (
        Kind.SUCCEEDED,
        "checkout.session.async_payment_succeeded",
    )
    intent = checkout.simulator.sessions[ref]["payment_intent"]
    assert (settled.payment_id, settled.provider_payment_id) == (payment_id, intent)


def test_a_bounced_bank_debit_fails_the_checkout(checkout: Stripe) -> None:
    _, ref = checkout.start()
    checkout.simulator.process(ref)
    event = checkout.one(checkout.simulator.settle(ref, succeeded=False))
    assert (event.kind, event.raw_type) == (Kind.FAILED, "checkout.session.async_payment_failed")


def test_an_expired_checkout_is_canceled(checkout: Stripe) -> None:
    payment_id, ref = checkout.start()
    event = checkout.one(checkout.simulator.expire_checkout(ref))
    assert (event.kind, event.payment_id, event.amount) == (Kind.CANCELED, payment_id, None)


def test_events_about_a_checkouts_payment_intent_carry_its_id_and_our_payment_id(
    checkout: Stripe,
) -> None:
    payment_id, ref = checkout.start()
    event = checkout.one(checkout.simulator.require_action(ref))
    intent_id = checkout.simulator.sessions[ref]["payment_intent"]
    assert (event.kind, event.payment_id) == (Kind.REQUIRES_ACTION, payment_id)
    assert event.provider_payment_id == intent_id != ref


# Refunds ---------------------------------------------------------------------------------


def test_refund_created_reports_both_refund_ids_and_the_amount(stripe: Stripe) -> None:
    _, ref = stripe.paid()
    refund_id, provider_refund_id = stripe.refund(ref, Money(12500, "DKK"))
    event = stripe.one(stripe.last("refund.created"))
    assert (event.kind, event.raw_type) == (Kind.REFUND_SUCCEEDED, "refund.created")
    assert (event.refund_id, event.provider_refund_id) == (refund_id, provider_refund_id)
    assert (event.provider_payment_id, event.amount) == (ref, Money(12500, "DKK"))


def test_a_pending_refund_then_succeeds_or_fails() -> None:
    with StripeSimulator(clock=FrozenClock(NOW), refund_status="pending") as simulator:
        stripe = Stripe(simulator, hosted=False)
        _, ref = stripe.paid()
        _, first = stripe.refund(ref, Money(100, "DKK"))
        _, second = stripe.refund(ref, Money(200, "DKK"))
        assert stripe.one(stripe.last("refund.created")).kind is Kind.REFUND_PENDING
        updated = stripe.one(simulator.complete_refund(first))
        assert (updated.kind, updated.raw_type) == (Kind.REFUND_SUCCEEDED, "refund.updated")
        failed = stripe.one(simulator.complete_refund(second, succeeded=False))
        assert (failed.kind, failed.raw_type) == (Kind.REFUND_FAILED, "refund.failed")
        assert failed.failure_code == "expired_or_canceled_card"


def test_a_canceled_refund_is_refund_canceled(stripe: Stripe) -> None:
    _, ref = stripe.paid()
    _, provider_refund_id = stripe.refund(ref, Money(100, "DKK"))
    canceled = {**stripe.simulator.refunds[provider_refund_id], "status": "canceled"}
    assert (
        stripe.one(stripe.simulator.webhook("refund.updated", canceled)).kind
        is Kind.REFUND_CANCELED
    )


def test_charge_refunded_yields_one_event_per_refund_it_lists(stripe: Stripe) -> None:
    _, ref = stripe.paid()
    stripe.refund(ref, Money(100, "DKK"))
    stripe.refund(ref, Money(200, "DKK"))
    events = stripe.parse(stripe.last("charge.refunded"))
    assert sorted(e.amount.amount for e in events if e.amount) == [100, 200]
    assert {e.kind for e in events} == {Kind.REFUND_SUCCEEDED}
    assert len({e.event_id for e in events}) == 2


@pytest.mark.off_spec("a bare charge: only the fields the parser reads")
def test_charge_refunded_without_its_refunds_says_too_little_and_is_unknown(stripe: Stripe) -> None:
    charge = {"id": "ch_1", "object": "charge", "amount_refunded": 100, "currency": "dkk"}
    [event] = stripe.parse(stripe.simulator.webhook("charge.refunded", charge))
    assert (event.kind, event.raw_type) == (Kind.UNKNOWN, "charge.refunded")


def test_refunds_of_a_checkout_carry_our_payment_id(checkout: Stripe) -> None:
    payment_id, ref = checkout.start()
    checkout.simulator.succeed(ref)
    refund_id, _ = checkout.refund(ref, Money(100, "DKK"))
    event = checkout.one(checkout.last("refund.created"))
    assert (event.payment_id, event.refund_id) == (payment_id, refund_id)


# Disputes --------------------------------------------------------------------------------


def test_a_dispute_opens_updates_and_closes(stripe: Stripe) -> None:
    _, ref = stripe.paid()
    opened = stripe.one(stripe.simulator.dispute(ref))
    assert (opened.kind, opened.dispute_status, opened.amount) == (
        Kind.DISPUTE_OPENED,
        "needs_response",
        PRICE,
    )
    assert opened.provider_payment_id == ref
    dispute_id = opened.provider_dispute_id
    assert dispute_id is not None
    assert dispute_id.startswith("dp_")
    updated = stripe.one(stripe.simulator.update_dispute(dispute_id, "under_review"))
    assert (updated.kind, updated.dispute_status) == (Kind.DISPUTE_UPDATED, "under_review")
    closed = stripe.one(stripe.simulator.close_dispute(dispute_id, won=True))
    assert (closed.kind, closed.dispute_status, closed.provider_dispute_id) == (
        Kind.DISPUTE_CLOSED,
        "won",
        dispute_id,
    )


# Anything else ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    ["payment_intent.created", "charge.succeeded", "customer.created", "plan.created",
     "charge.dispute.funds_withdrawn", "checkout.session.async_payment_expired"],
)  # fmt: skip
@pytest.mark.off_spec("an object of no kind Stripe has: the parser must not look at it")
def test_other_event_types_come_back_unknown_with_their_raw_type(
    stripe: Stripe, event_type: str
) -> None:
    event = stripe.one(stripe.simulator.webhook(event_type, {"id": "x_1", "object": "thing"}))
    assert (event.kind, event.raw_type, event.provider) == (Kind.UNKNOWN, event_type, "stripe")


def signed(stripe: Stripe, event: dict[str, Any]) -> Delivery:
    body = json.dumps(event).encode()
    return body, stripe.simulator.sign(body, NOW)


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "type": "payment_intent.succeeded", "created": 1, "data": {}},
        {"id": "evt_1", "type": "payment_intent.succeeded", "created": "1", "data": {"object": {}}},
        {"id": "evt_1", "type": "refund.updated", "created": 1,
         "data": {"object": {"id": "re_1", "status": "teleported"}}},
        {"id": "evt_1", "type": "payment_intent.succeeded", "created": 1,
         "data": {"object": {"id": "pi_1", "amount_received": "5", "currency": "dkk"}}},
        {"id": "evt_1", "type": "payment_intent.succeeded", "created": 1,
         "data": {"object": {"id": "pi_1", "amount_received": 50050, "currency": "isk"}}},
        {"id": "evt_1", "type": "payment_intent.succeeded", "created": 1,
         "data": {"object": {"id": "pi_1", "metadata": {"payment_id": 7}}}},
        {"id": "evt_1", "type": "checkout.session.completed", "created": 1,
         "data": {"object": {"id": "cs_1", "payment_status": "maybe"}}},
    ],
)  # fmt: skip
def test_a_signed_event_of_the_wrong_shape_is_malformed(
    stripe: Stripe, event: dict[str, Any]
) -> None:
    with pytest.raises(MalformedWebhook):
        stripe.parse(signed(stripe, event))


# Cards on file ----------------------------------------------------------------------------


def _customer_and_setup(stripe: Stripe) -> tuple[str, str, str]:
    """(our customer id, Stripe's customer, a SetupIntent for it)."""
    ours = new_id("cust")
    theirs = stripe.gateway.create_customer(CustomerRequest(ours, "sch_1", "stu_1", new_id("k")))
    setup = stripe.gateway.start_setup(SetupRequest(ours, theirs, "sch_1", new_id("k")))
    return ours, theirs, setup.provider_setup_id


def test_a_saved_card_is_a_setup_success_naming_our_customer_and_the_method(
    stripe: Stripe,
) -> None:
    ours, _, seti = _customer_and_setup(stripe)
    event = stripe.one(stripe.simulator.complete_setup(seti))
    assert (event.kind, event.raw_type) == (Kind.SETUP_SUCCEEDED, "setup_intent.succeeded")
    assert (event.customer_id, event.provider_setup_id) == (ours, seti)
    assert event.provider_method_id == stripe.simulator.wallet.setup_intent(seti)["payment_method"]
    assert event.payment_id is None
    attached = stripe.one(stripe.last("payment_method.attached"))
    assert attached.kind is Kind.UNKNOWN  # the setup's success is the news we act on


def test_a_setup_waiting_for_3d_secure_and_a_failed_one_map_to_their_kinds(
    stripe: Stripe,
) -> None:
    _, _, seti = _customer_and_setup(stripe)
    waiting = stripe.one(
        stripe.simulator.complete_setup(seti, "pm_card_authenticationRequiredOnSetup")
    )
    assert waiting.kind is Kind.SETUP_REQUIRES_ACTION
    _, _, other = _customer_and_setup(stripe)
    failed = stripe.one(stripe.simulator.fail_setup(other, "do_not_honor"))
    assert (failed.kind, failed.failure_code) == (Kind.SETUP_FAILED, "do_not_honor")


def test_an_off_session_charge_needing_authentication_waits_for_the_payer_not_failed(
    stripe: Stripe,
) -> None:
    _, theirs, seti = _customer_and_setup(stripe)
    stripe.simulator.complete_setup(seti, "pm_card_authenticationRequired")
    stripe.simulator.authenticate_setup(seti)
    method = stripe.simulator.wallet.setup_intent(seti)["payment_method"]
    payment_id = new_id("pay")
    result = stripe.gateway.charge_saved(
        SavedChargeRequest(payment_id, "sch_1", theirs, method, PRICE, "Fee", new_id("k"))
    )
    assert result.status is ChargeStatus.REQUIRES_ACTION
    event = stripe.one(stripe.last("payment_intent.payment_failed"))
    assert (event.kind, event.payment_id) == (Kind.REQUIRES_ACTION, payment_id)
    assert event.failure_code is None

"""What StripeGateway sends Stripe, checked on the simulator: shapes, keys, version, money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from justdriving.adapters.memory import FrozenClock
from justdriving.adapters.payments.stripe.gateway import API_VERSION, StripeGateway
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.domain.people import EmailAddress
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest, RefundRequest
from justdriving.testing.stripe.simulator import StripeSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")


@pytest.fixture
def simulator() -> Iterator[StripeSimulator]:
    with StripeSimulator(clock=FrozenClock(NOW)) as running:
        yield running


@pytest.fixture
def gateway(simulator: StripeSimulator) -> StripeGateway:
    return StripeGateway(
        simulator.secret_key, simulator.webhook_secret, api_base=simulator.api_base
    )


def a_request(
    key: str | None = None,
    amount: Money = PRICE,
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC,
    **extra: object,
) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=amount,
        description="Driving lesson, 14 March",
        idempotency_key=key or new_id("key"),
        capture_mode=capture_mode,
        **extra,  # type: ignore[arg-type]
    )


def a_refund(ref: str, amount: Money, reason: str = "requested_by_customer") -> RefundRequest:
    return RefundRequest(new_id("re"), ref, amount, reason, new_id("key"))


def paid(gateway: StripeGateway, simulator: StripeSimulator) -> str:
    ref = gateway.start(a_request()).provider_payment_id
    simulator.succeed(ref)
    return ref


# Starting --------------------------------------------------------------------------------


def test_start_creates_a_payment_intent_for_the_payment_element(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request(
        customer_email=EmailAddress("elev@example.dk"), metadata={"invoice_id": "inv_1"}
    )
    session = gateway.start(request)
    intent = simulator.payment_intents[session.provider_payment_id]
    assert session.provider == "stripe"
    assert session.client_secret == intent["client_secret"]
    assert session.redirect_url is None
    assert (intent["amount"], intent["currency"], intent["capture_method"]) == (
        50000,
        "dkk",
        "automatic",
    )
    assert intent["automatic_payment_methods"]["enabled"] is True
    assert intent["metadata"] == {
        "payment_id": request.payment_id,
        "school_id": "sch_1",
        "invoice_id": "inv_1",
    }
    assert (intent["description"], intent["receipt_email"]) == (
        request.description,
        "elev@example.dk",
    )


def test_a_deposit_hold_asks_for_manual_capture(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    session = gateway.start(a_request(capture_mode=CaptureMode.MANUAL))
    assert simulator.payment_intents[session.provider_payment_id]["capture_method"] == "manual"


def test_request_metadata_cannot_replace_our_payment_id(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request(metadata={"payment_id": "someone_else", "school_id": "sch_9"})
    session = gateway.start(request)
    metadata = simulator.payment_intents[session.provider_payment_id]["metadata"]
    assert (metadata["payment_id"], metadata["school_id"]) == (request.payment_id, "sch_1")


def test_every_request_pins_the_api_version_and_every_post_has_a_key(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = paid(gateway, simulator)
    gateway.refund(a_refund(ref, Money(100, "DKK")))
    hosted = gateway.start(a_request(return_url="https://school.example/paid"))
    gateway.cancel(hosted.provider_payment_id, new_id("key"))
    assert {r.stripe_version for r in simulator.requests} == {API_VERSION}
    posts = [r for r in simulator.requests if r.method == "POST"]
    assert len(posts) == 4
    assert all(r.idempotency_key for r in posts)


# Idempotency -----------------------------------------------------------------------------


def test_the_same_key_twice_creates_one_payment_intent_and_returns_its_id(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request(key="start-pay_1")
    first, again = gateway.start(request), gateway.start(request)
    assert first == again
    assert first.client_secret == again.client_secret
    assert list(simulator.payment_intents) == [first.provider_payment_id]
    assert [r.replayed for r in simulator.requests] == [False, True]


def test_a_key_reused_for_another_payment_is_rejected(gateway: StripeGateway) -> None:
    gateway.start(a_request(key="start-pay_1"))
    with pytest.raises(ProviderRejected) as raised:
        gateway.start(a_request(key="start-pay_1", amount=Money(100, "DKK")))
    assert raised.value.provider_code == "idempotency_error"


def test_a_key_longer_than_stripe_allows_is_hashed_the_same_way_every_time(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request(key="k" * 300)
    assert gateway.start(request) == gateway.start(request)
    [key] = {r.idempotency_key for r in simulator.requests}
    assert key is not None
    assert len(key) <= 255
    assert len(simulator.payment_intents) == 1


def test_a_lost_answer_is_ambiguous_and_the_retry_gets_the_same_payment(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    request = a_request()
    simulator.lose_next_response()
    with pytest.raises(ProviderUnavailable) as raised:
        gateway.start(request)
    assert raised.value.possibly_done
    assert len(simulator.payment_intents) == 1  # Stripe did it; the answer was lost
    session = gateway.start(request)
    assert list(simulator.payment_intents) == [session.provider_payment_id]


# Capturing, cancelling, refunding --------------------------------------------------------


def test_a_partial_capture_captures_that_amount_once_per_key(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request(capture_mode=CaptureMode.MANUAL)).provider_payment_id
    simulator.authorize(ref)
    gateway.capture(ref, Money(30000, "DKK"), "capture-1")
    gateway.capture(ref, Money(30000, "DKK"), "capture-1")
    intent = simulator.payment_intents[ref]
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 30000)


def test_cancelling_releases_the_payment_intent(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    gateway.cancel(ref, "cancel-1")
    assert simulator.payment_intents[ref]["status"] == "canceled"


def test_a_refund_carries_our_ids_and_stripes_reason_when_ours_is_one(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = paid(gateway, simulator)
    request = a_refund(ref, Money(10000, "DKK"), "Requested by customer")
    result = gateway.refund(request)
    refund = simulator.refunds[result.provider_refund_id]
    assert (refund["amount"], refund["payment_intent"], refund["reason"]) == (
        10000,
        ref,
        "requested_by_customer",
    )
    assert refund["metadata"]["refund_id"] == request.refund_id
    assert result.status is RefundStatus.SUCCEEDED


def test_a_refund_reason_stripe_does_not_know_stays_in_metadata_only(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = paid(gateway, simulator)
    result = gateway.refund(a_refund(ref, Money(10000, "DKK"), "Lesson cancelled by the school"))
    refund = simulator.refunds[result.provider_refund_id]
    assert refund["reason"] is None
    assert refund["metadata"]["reason"] == "Lesson cancelled by the school"


def test_a_pending_refund_is_reported_pending() -> None:
    with StripeSimulator(refund_status="pending") as simulator:
        gateway = StripeGateway(simulator.secret_key, "whsec_x", api_base=simulator.api_base)
        ref = paid(gateway, simulator)
        assert gateway.refund(a_refund(ref, Money(100, "DKK"))).status is RefundStatus.PENDING


def test_refunding_more_than_is_left_is_rejected_with_stripes_code(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    ref = paid(gateway, simulator)
    gateway.refund(a_refund(ref, Money(40000, "DKK")))
    with pytest.raises(ProviderRejected) as raised:
        gateway.refund(a_refund(ref, Money(10001, "DKK")))
    assert raised.value.provider_code == "amount_too_large"


# Money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "amount", "currency"),
    [(Money(5000, "JPY"), 5000, "jpy"), (Money(5120, "KWD"), 5120, "kwd"),
     (Money(500, "ISK"), 50000, "isk"), (Money(1999, "EUR"), 1999, "eur")],
)  # fmt: skip
def test_amounts_reach_stripe_in_its_smallest_unit(
    gateway: StripeGateway, simulator: StripeSimulator, money: Money, amount: int, currency: str
) -> None:
    ref = gateway.start(a_request(amount=money)).provider_payment_id
    intent = simulator.payment_intents[ref]
    assert (intent["amount"], intent["currency"]) == (amount, currency)


@pytest.mark.parametrize("money", [Money(5124, "KWD"), Money(150, "MGA"), Money(100, "LYD")])
def test_an_amount_stripe_cannot_take_is_rejected_before_any_call(
    gateway: StripeGateway, simulator: StripeSimulator, money: Money
) -> None:
    with pytest.raises(ProviderRejected) as raised:
        gateway.start(a_request(amount=money))
    assert raised.value.provider_code == "amount_invalid"
    assert simulator.requests == []


# Configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "secret"), [("", "whsec_1"), ("sk_test_1", ""), ("", "")])
def test_a_gateway_without_its_secrets_is_a_configuration_error(key: str, secret: str) -> None:
    with pytest.raises(ConfigurationError):
        StripeGateway(key, secret)


def test_the_gateway_name_is_configurable(simulator: StripeSimulator) -> None:
    gateway = StripeGateway(
        "sk_test_simulator", "whsec_1", api_base=simulator.api_base, name="stripe_dk"
    )
    assert gateway.start(a_request()).provider == "stripe_dk"

"""Stripe's failures, as the real SDK raises them, become justdriving errors chained with `from`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe as stripe_sdk

from justdriving.adapters.payments.stripe.errors import translate
from justdriving.adapters.payments.stripe.gateway import API_VERSION, StripeGateway
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.ports.payments import PaymentRequest
from justdriving.testing.stripe.simulator import StripeSimulator


@pytest.fixture
def simulator() -> Iterator[StripeSimulator]:
    with StripeSimulator() as running:
        yield running


@pytest.fixture
def gateway(simulator: StripeSimulator) -> StripeGateway:
    return StripeGateway(simulator.secret_key, "whsec_1", api_base=simulator.api_base)


def a_request() -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=Money(50000, "DKK"),
        description="Driving lesson",
        idempotency_key=new_id("key"),
    )


def raised_by(gateway: StripeGateway) -> JustDrivingError:
    with pytest.raises(JustDrivingError) as raised:
        gateway.start(a_request())
    assert isinstance(raised.value.__cause__, stripe_sdk.StripeError)  # chained, not leaked
    return raised.value


def test_a_402_card_decline_is_payment_declined_with_the_decline_code(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.decline_next("card_declined", decline_code="insufficient_funds")
    error = raised_by(gateway)
    assert isinstance(error, PaymentDeclined)
    assert error.provider_code == "insufficient_funds"
    assert not error.retryable


def test_a_402_without_a_decline_code_keeps_stripes_error_code(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.decline_next("expired_card")
    error = raised_by(gateway)
    assert isinstance(error, PaymentDeclined)
    assert error.provider_code == "expired_card"


def test_a_decline_from_a_test_card_translates_the_same(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    """The payer confirms with Stripe's pm_card_chargeDeclined, through the SDK itself."""
    ref = gateway.start(a_request()).provider_payment_id
    client = stripe_sdk.StripeClient(
        simulator.secret_key,
        stripe_version=API_VERSION,
        base_addresses={"api": simulator.api_base},
        max_network_retries=0,
    )
    with pytest.raises(stripe_sdk.CardError) as raised:
        client.v1.payment_intents.confirm(ref, {"payment_method": "pm_card_chargeDeclined"})
    error = translate(raised.value, "stripe")
    assert isinstance(error, PaymentDeclined)
    assert error.provider_code == "generic_decline"
    assert simulator.payment_intents[ref]["status"] == "requires_payment_method"


def test_a_429_is_unavailable_and_says_when_to_retry(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.fail_next(429, retry_after=7)
    error = raised_by(gateway)
    assert isinstance(error, ProviderUnavailable)
    assert (error.retryable, error.retry_after, error.possibly_done) == (True, 7.0, False)
    assert error.provider_code == "rate_limit"


def test_a_429_without_retry_after_leaves_the_delay_to_the_relay(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.fail_next(429)
    error = raised_by(gateway)
    assert isinstance(error, ProviderUnavailable)
    assert error.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_unavailable_and_possibly_done(
    gateway: StripeGateway, simulator: StripeSimulator, status: int
) -> None:
    simulator.fail_next(status, retry_after=2)
    error = raised_by(gateway)
    assert isinstance(error, ProviderUnavailable)
    assert (error.possibly_done, error.retry_after) == (True, 2.0)


def test_a_409_for_a_key_still_in_flight_is_retryable(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.fail_next(409, code="lock_timeout")
    assert isinstance(raised_by(gateway), ProviderUnavailable)


def test_a_401_for_a_wrong_secret_key_is_a_configuration_error(simulator: StripeSimulator) -> None:
    gateway = StripeGateway("sk_test_wrong", "whsec_1", api_base=simulator.api_base)
    error = raised_by(gateway)
    assert isinstance(error, ConfigurationError)
    assert "PAYMENT_PROVIDER_SECRET" in str(error)
    assert simulator.payment_intents == {}


def test_a_403_for_a_restricted_key_is_a_configuration_error(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.fail_next(403)
    assert isinstance(raised_by(gateway), ConfigurationError)


def test_a_400_is_rejected_with_stripes_code(
    gateway: StripeGateway, simulator: StripeSimulator
) -> None:
    simulator.fail_next(400, code="parameter_invalid_integer")
    error = raised_by(gateway)
    assert isinstance(error, ProviderRejected)
    assert error.provider_code == "parameter_invalid_integer"


def test_an_unknown_payment_is_rejected_as_missing(gateway: StripeGateway) -> None:
    with pytest.raises(ProviderRejected) as raised:
        gateway.capture("pi_unknown", Money(100, "DKK"), new_id("key"))
    assert raised.value.provider_code == "resource_missing"


def test_stripe_down_altogether_is_unavailable_and_possibly_done() -> None:
    with StripeSimulator() as simulator:
        base = simulator.api_base
    gateway = StripeGateway("sk_test_simulator", "whsec_1", api_base=base)
    error = raised_by(gateway)
    assert isinstance(error, ProviderUnavailable)
    assert error.possibly_done

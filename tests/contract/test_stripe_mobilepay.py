"""MobilePay through Stripe: offered beside cards when the school says so, in the currencies
Stripe presents it in (DKK, EUR, NOK, SEK), on PaymentIntents and on hosted Checkout, as
`allowed_payment_method_types` (the API version pinned no longer takes payment_method_types)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from justdriving.domain.errors import ProviderRejected
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.ports.payments import PaymentRequest

stripe = pytest.importorskip("stripe")

from justdriving.adapters.payments.stripe import StripeGateway  # noqa: E402
from justdriving.testing.stripe.simulator import StripeSimulator  # noqa: E402


@pytest.fixture
def simulator() -> Iterator[StripeSimulator]:
    with StripeSimulator(webhook_secret="whsec_mobilepay") as running:
        yield running


def gateway(simulator: StripeSimulator, *, hosted: bool) -> StripeGateway:
    return StripeGateway(
        simulator.secret_key,
        simulator.webhook_secret,
        api_base=simulator.api_base,
        hosted_checkout=hosted,
    )


def a_request(
    amount: Money, *, offer: bool, manual: bool = False, hosted: bool = False
) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=amount,
        description="Driving lesson",
        idempotency_key=new_id("key"),
        capture_mode=CaptureMode.MANUAL if manual else CaptureMode.AUTOMATIC,
        return_url="https://school.example/return" if hosted else None,
        offer_mobilepay=offer,
    )


@pytest.mark.parametrize("currency", ["DKK", "EUR", "NOK", "SEK"])
def test_a_school_that_offers_mobilepay_gets_it_beside_cards(
    simulator: StripeSimulator, currency: str
) -> None:
    session = gateway(simulator, hosted=False).start(a_request(Money(50000, currency), offer=True))
    intent = simulator.payment_intents[session.provider_payment_id]
    assert intent["payment_method_types"] == ["card", "mobilepay"]
    assert intent["automatic_payment_methods"] is None


def test_hosted_checkout_offers_mobilepay_too(simulator: StripeSimulator) -> None:
    session = gateway(simulator, hosted=True).start(
        a_request(Money(50000, "DKK"), offer=True, hosted=True)
    )
    assert simulator.sessions[session.provider_payment_id]["payment_method_types"] == [
        "card",
        "mobilepay",
    ]


def test_a_hold_can_be_placed_with_mobilepay_offered(simulator: StripeSimulator) -> None:
    session = gateway(simulator, hosted=False).start(
        a_request(Money(30000, "DKK"), offer=True, manual=True)
    )
    intent = simulator.payment_intents[session.provider_payment_id]
    assert intent["capture_method"] == "manual"
    assert "mobilepay" in intent["payment_method_types"]


@pytest.mark.parametrize(
    ("amount", "offer"),
    [(Money(50000, "DKK"), False), (Money(50000, "USD"), True), (Money(50000, "GBP"), True)],
    ids=["not-offered", "usd", "gbp"],
)
def test_otherwise_the_methods_stay_the_dashboards(
    simulator: StripeSimulator, amount: Money, offer: bool
) -> None:
    session = gateway(simulator, hosted=False).start(a_request(amount, offer=offer))
    intent = simulator.payment_intents[session.provider_payment_id]
    assert intent["automatic_payment_methods"] == {"enabled": True, "allow_redirects": "always"}
    assert "mobilepay" not in (intent.get("payment_method_types") or [])


def test_the_simulator_refuses_what_stripe_refuses(simulator: StripeSimulator) -> None:
    client = stripe.StripeClient(
        simulator.secret_key, base_addresses={"api": simulator.api_base}, max_network_retries=0
    )
    with pytest.raises(stripe.InvalidRequestError) as removed:
        client.v1.payment_intents.create(
            {"amount": 100, "currency": "dkk", "payment_method_types": ["mobilepay"]}  # type: ignore[typeddict-unknown-key]
        )
    assert removed.value.code == "payment_method_types_no_longer_supported"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            {"amount": 100, "currency": "usd", "allowed_payment_method_types": ["mobilepay"]}
        )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(
            {
                "amount": 100,
                "currency": "dkk",
                "allowed_payment_method_types": ["mobilepay"],
                "automatic_payment_methods": {"enabled": True},
            }
        )


def test_a_refused_start_is_a_named_error(simulator: StripeSimulator) -> None:
    simulator.fail_next(400)
    with pytest.raises(ProviderRejected):
        gateway(simulator, hosted=False).start(a_request(Money(50000, "DKK"), offer=True))

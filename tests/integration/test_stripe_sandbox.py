"""StripeGateway against Stripe's own test mode. Runs only with credentials; never faked.

    STRIPE_TEST_SECRET_KEY=sk_test_… STRIPE_TEST_WEBHOOK_SECRET=whsec_… pytest -m sandbox

The payer's side uses Stripe's test payment methods (pm_card_visa, pm_card_chargeDeclined)
through the SDK, as a browser would. Webhook deliveries need a public endpoint (or
`stripe listen`), so they are not exercised here: the simulator covers them offline.
"""

from __future__ import annotations

import os

import pytest
import stripe as stripe_sdk

from justdriving.adapters.payments.stripe.errors import translate
from justdriving.adapters.payments.stripe.gateway import API_VERSION, StripeGateway
from justdriving.domain.errors import ConfigurationError, PaymentDeclined, ProviderRejected
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest, RefundRequest

SECRET_KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")
WEBHOOK_SECRET = os.environ.get("STRIPE_TEST_WEBHOOK_SECRET", "")
RETURN_URL = "https://example.com/justdriving/return"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not (SECRET_KEY and WEBHOOK_SECRET),
        reason="STRIPE_TEST_SECRET_KEY and STRIPE_TEST_WEBHOOK_SECRET are not set",
    ),
]


@pytest.fixture(scope="module")
def gateway() -> StripeGateway:
    if not SECRET_KEY.startswith(("sk_test_", "rk_test_")):
        pytest.fail("STRIPE_TEST_SECRET_KEY must be a test-mode key (sk_test_… or rk_test_…)")
    return StripeGateway(SECRET_KEY, WEBHOOK_SECRET, hosted_checkout=True)


@pytest.fixture(scope="module")
def payer() -> stripe_sdk.StripeClient:
    """The browser's side: confirming with Stripe's test payment methods."""
    return stripe_sdk.StripeClient(SECRET_KEY, stripe_version=API_VERSION)


@pytest.fixture
def run_id() -> str:
    return new_id("sandbox")


PRICE = Money(5000, "DKK")


def a_request(
    amount: Money = PRICE,
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC,
    return_url: str | None = None,
    key: str | None = None,
) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_sandbox",
        amount=amount,
        description="justdriving sandbox test",
        idempotency_key=key or new_id("key"),
        capture_mode=capture_mode,
        return_url=return_url,
    )


def pay(payer: stripe_sdk.StripeClient, intent_id: str, method: str = "pm_card_visa") -> str:
    intent = payer.v1.payment_intents.confirm(
        intent_id, {"payment_method": method, "return_url": RETURN_URL}
    )
    return str(intent.status)


def a_refund(ref: str, amount: Money) -> RefundRequest:
    return RefundRequest(new_id("re"), ref, amount, "requested_by_customer", new_id("key"))


def test_the_same_key_twice_gives_the_same_payment_intent(
    gateway: StripeGateway, run_id: str
) -> None:
    request = a_request(key=f"{run_id}-start")
    first, again = gateway.start(request), gateway.start(request)
    assert first == again
    assert first.provider_payment_id.startswith("pi_")
    assert first.client_secret


def test_a_key_reused_with_other_parameters_is_rejected(
    gateway: StripeGateway, run_id: str
) -> None:
    gateway.start(a_request(key=f"{run_id}-reuse"))
    with pytest.raises(ProviderRejected) as raised:
        gateway.start(a_request(Money(6000, "DKK"), key=f"{run_id}-reuse"))
    assert raised.value.provider_code == "idempotency_error"


def test_a_paid_payment_is_refunded_in_parts_never_above_what_was_paid(
    gateway: StripeGateway, payer: stripe_sdk.StripeClient
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    assert pay(payer, ref) == "succeeded"
    first = gateway.refund(a_refund(ref, Money(3000, "DKK")))
    assert first.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    with pytest.raises(ProviderRejected):
        gateway.refund(a_refund(ref, Money(2001, "DKK")))
    gateway.refund(a_refund(ref, Money(2000, "DKK")))


def test_a_held_card_is_captured_in_part(
    gateway: StripeGateway, payer: stripe_sdk.StripeClient
) -> None:
    ref = gateway.start(a_request(capture_mode=CaptureMode.MANUAL)).provider_payment_id
    assert pay(payer, ref) == "requires_capture"
    gateway.capture(ref, Money(4000, "DKK"), new_id("key"))
    assert payer.v1.payment_intents.retrieve(ref).amount_received == 4000


def test_an_unpaid_payment_is_cancelled_but_a_paid_one_is_not(
    gateway: StripeGateway, payer: stripe_sdk.StripeClient
) -> None:
    open_ref = gateway.start(a_request()).provider_payment_id
    gateway.cancel(open_ref, new_id("key"))
    paid_ref = gateway.start(a_request()).provider_payment_id
    pay(payer, paid_ref)
    with pytest.raises(ProviderRejected):
        gateway.cancel(paid_ref, new_id("key"))


def test_a_declining_test_card_translates_to_payment_declined(
    gateway: StripeGateway, payer: stripe_sdk.StripeClient
) -> None:
    ref = gateway.start(a_request()).provider_payment_id
    with pytest.raises(stripe_sdk.CardError) as raised:
        pay(payer, ref, "pm_card_chargeDeclined")
    error = translate(raised.value, gateway.name)
    assert isinstance(error, PaymentDeclined)
    assert error.provider_code == "generic_decline"


def test_a_zero_decimal_amount_is_sent_as_is(
    gateway: StripeGateway, payer: stripe_sdk.StripeClient
) -> None:
    ref = gateway.start(a_request(Money(5000, "JPY"))).provider_payment_id
    intent = payer.v1.payment_intents.retrieve(ref)
    assert (intent.amount, intent.currency) == (5000, "jpy")


def test_a_hosted_checkout_opens_on_stripe_and_can_be_cancelled(gateway: StripeGateway) -> None:
    session = gateway.start(a_request(return_url=RETURN_URL))
    assert session.provider_payment_id.startswith("cs_test_")
    assert (session.redirect_url or "").startswith("https://checkout.stripe.com/")
    gateway.cancel(session.provider_payment_id, new_id("key"))


def test_a_wrong_key_is_a_configuration_error() -> None:
    gateway = StripeGateway("sk_test_not_a_real_key", WEBHOOK_SECRET)
    with pytest.raises(ConfigurationError):
        gateway.start(a_request())

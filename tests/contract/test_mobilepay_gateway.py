"""MobilePayGateway's own rules against the simulator: the access token kept and renewed, the
API keys refused by name, failures translated, refusals before any call, sales units apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.domain.people import PhoneNumber
from justdriving.ports.payments import CustomerRequest, PaymentRequest, RefundRequest

pytest.importorskip("httpx")

from justdriving.adapters.payments.mobilepay import MobilePayGateway
from justdriving.adapters.payments.mobilepay.api import Credentials
from justdriving.testing.mobilepay.simulator import MobilePaySimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
HOOK = "https://school.example/webhook/payments/mobilepay"


@pytest.fixture
def vipps() -> Iterator[MobilePaySimulator]:
    with MobilePaySimulator(clock=lambda: NOW) as simulator:
        yield simulator


def gateway_for(
    vipps: MobilePaySimulator, credentials: Credentials | None = None
) -> MobilePayGateway:
    return MobilePayGateway(
        credentials or vipps.credentials(), "secret", HOOK, api_base=vipps.base_url
    )


PRICE = Money(50000, "DKK")


def a_request(
    amount: Money = PRICE, *, return_url: str | None = "https://s.example/r"
) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=amount,
        description="Driving lesson",
        idempotency_key=new_id("key"),
        return_url=return_url,
    )


def test_one_token_serves_many_calls_and_a_revoked_one_is_renewed_once(
    vipps: MobilePaySimulator,
) -> None:
    gateway = gateway_for(vipps)
    for _ in range(3):
        gateway.start(a_request())
    assert vipps.tokens_issued == 1
    vipps.expire_tokens()
    gateway.start(a_request())
    assert vipps.tokens_issued == 2


def test_wrong_api_keys_are_a_configuration_error_naming_the_settings(
    vipps: MobilePaySimulator,
) -> None:
    wrong = Credentials(
        "sim-mobilepay-client", "not-the-secret", "sim-mobilepay-subscription", "123456"
    )
    with pytest.raises(ConfigurationError) as refused:
        gateway_for(vipps, wrong).start(a_request())
    assert "MOBILEPAY_CLIENT_SECRET" in str(refused.value.problems)
    assert "not-the-secret" not in str(refused.value)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_or_failing_api_is_retryable(vipps: MobilePaySimulator, status: int) -> None:
    vipps.fail_next(status)
    with pytest.raises(ProviderUnavailable) as raised:
        gateway_for(vipps).start(a_request())
    assert raised.value.retryable


def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_payment(
    vipps: MobilePaySimulator,
) -> None:
    gateway, request = gateway_for(vipps), a_request()
    vipps.fail_next(503, processed=True)
    with pytest.raises(ProviderUnavailable):
        gateway.start(request)
    session = gateway.start(request)
    assert vipps.payment_count() == 1
    assert vipps.payment(session.provider_payment_id).value == 50000


@pytest.mark.parametrize(
    "request_",
    [
        a_request(Money(50000, "USD")),
        a_request(Money(0, "DKK")),
        a_request(return_url=None),  # no return URL and no phone: no way to reach the payer
    ],
    ids=["currency", "zero", "no-flow"],
)
def test_what_mobilepay_cannot_take_is_refused_before_any_call(
    vipps: MobilePaySimulator, request_: PaymentRequest
) -> None:
    with pytest.raises(ProviderRejected):
        gateway_for(vipps).start(request_)
    assert vipps.payment_count() == 0


def test_a_phone_number_goes_as_msisdn_and_without_a_return_url_the_app_is_pushed(
    vipps: MobilePaySimulator,
) -> None:
    request = PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=Money(50000, "DKK"),
        description="Lesson",
        idempotency_key=new_id("key"),
        customer_phone=PhoneNumber("+4520123456"),
    )
    session = gateway_for(vipps).start(request)
    assert session.redirect_url is None
    assert vipps.payment(session.provider_payment_id).flow == "PUSH_MESSAGE"


def test_sales_units_keep_their_payments_apart(vipps: MobilePaySimulator) -> None:
    vipps.add_merchant("654321", "other-client", "other-secret", "other-subscription")
    ours, theirs = gateway_for(vipps), gateway_for(vipps, vipps.credentials("654321"))
    session = ours.start(a_request())
    with pytest.raises(ProviderRejected):  # 404 at the other sales unit
        theirs.cancel(session.provider_payment_id, "key")
    assert vipps.payment_count("654321") == 0


def test_an_unknown_reference_is_refused(vipps: MobilePaySimulator) -> None:
    with pytest.raises(ProviderRejected):
        gateway_for(vipps).complete("a00000000-xpay-1nothing", "key")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    captures=st.lists(st.integers(1, 30000), min_size=1, max_size=4),
    refunds=st.lists(st.integers(1, 30000), max_size=4),
)
def test_captures_and_refunds_never_exceed_what_was_held_or_taken(
    vipps: MobilePaySimulator, captures: list[int], refunds: list[int]
) -> None:
    """A hold of 500 kr: each partial capture goes through exactly when it fits in what is
    still reserved, each refund exactly when it fits in what was captured and not refunded."""
    gateway = gateway_for(vipps)
    request = PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=PRICE,
        description="Deposit",
        idempotency_key=new_id("key"),
        capture_mode=CaptureMode.MANUAL,
        return_url="https://s.example/r",
    )
    reference = gateway.start(request).provider_payment_id
    vipps.approve(reference)
    captured = refunded = 0
    for value in captures:
        fits = captured + value <= PRICE.amount
        try:
            gateway.capture(reference, Money(value, "DKK"), new_id("key"))
        except ProviderRejected:
            assert not fits
        else:
            assert fits
            captured += value
    for value in refunds:
        fits = refunded + value <= captured
        try:
            gateway.refund(
                RefundRequest(new_id("re"), reference, Money(value, "DKK"), "r", new_id("k"))
            )
        except ProviderRejected:
            assert not fits
        else:
            assert fits
            refunded += value
    payment = vipps.payment(reference)
    assert (payment.captured, payment.refunded) == (captured, refunded)


def test_an_agreement_event_without_its_external_id_finds_the_customer_by_asking(
    vipps: MobilePaySimulator,
) -> None:
    import json

    from justdriving.domain.payment_events import PaymentEventKind
    from justdriving.ports.payments import SetupRequest

    gateway = gateway_for(vipps)
    customer = gateway.create_customer(CustomerRequest("cust_7", "sch_1", "stu_7", "key_7"))
    setup = gateway.start_setup(
        SetupRequest("cust_7", customer, "sch_1", "key_8", "https://school.example/methods")
    )
    vipps.approve_agreement(setup.provider_setup_id)
    body = json.dumps(
        {
            "agreementId": setup.provider_setup_id,
            "eventType": "recurring.agreement-activated.v1",
            "occurred": "2025-03-14T09:30:00Z",
            "msn": vipps.default_msn,
        }
    ).encode()
    [event] = gateway.parse_webhook(body, vipps.sign(body, NOW, "secret", HOOK), NOW)
    assert (event.kind, event.customer_id) == (PaymentEventKind.SETUP_SUCCEEDED, "cust_7")
    vipps.fail_next(503)
    [kept] = gateway.parse_webhook(body, vipps.sign(body, NOW, "secret", HOOK), NOW)
    assert (kept.kind, kept.customer_id) == (PaymentEventKind.SETUP_SUCCEEDED, None)


_REASONS = st.sampled_from(
    [None, "user_action_required", "charge_amount_too_high", "non_technical_error"]
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.integers(0, 3), _REASONS), min_size=1, max_size=8))
def test_charges_on_an_agreement_happen_once_per_key_and_settle_as_vipps_says(
    vipps: MobilePaySimulator, steps: list[tuple[int, str | None]]
) -> None:
    """Charges asked under a few keys, some again, each failing for a reason or not: each key
    makes one charge, whose webhook names its payment and the reason it failed, if it did."""
    import json

    from justdriving.domain.payment_events import PaymentEventKind
    from justdriving.ports.payments import ChargeStatus, SavedChargeRequest, SetupRequest

    gateway = gateway_for(vipps)
    ours = new_id("cust")
    customer = gateway.create_customer(CustomerRequest(ours, "sch_1", "stu_1", new_id("key")))
    setup = gateway.start_setup(
        SetupRequest(ours, customer, "sch_1", new_id("key"), "https://school.example/m")
    )
    vipps.approve_agreement(setup.provider_setup_id)
    before, made = vipps.charge_count(), {}
    payments = {index: new_id("pay") for index in range(4)}
    for index, reason in steps:
        request = SavedChargeRequest(
            payments[index], "sch_1", customer, setup.provider_setup_id,
            Money(30000, "DKK"), "No-show fee", f"charge-{index}-{ours}",
        )  # fmt: skip
        result = gateway.charge_saved(request)
        assert result.status is ChargeStatus.PROCESSING
        assert made.setdefault(index, result.provider_payment_id) == result.provider_payment_id
        if vipps.charge(result.provider_payment_id).status != "PENDING":
            continue  # settled before: asking again changes nothing
        if reason:
            vipps.fail_next_charge(setup.provider_setup_id, reason)
        body, _ = vipps.process_charge(result.provider_payment_id)  # no hook registered here
        [event] = gateway.parse_webhook(body, vipps.sign(body, NOW, "secret", HOOK), NOW)
        assert event.payment_id == request.payment_id
        assert json.loads(body)["chargeId"] == result.provider_payment_id
        if reason:
            assert (event.kind, event.failure_code) == (PaymentEventKind.FAILED, reason)
        else:
            assert (event.kind, event.amount) == (PaymentEventKind.SUCCEEDED, request.amount)
    assert vipps.charge_count() - before == len(made)

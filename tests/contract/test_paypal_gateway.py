"""PayPalGateway against the PayPal simulator: what only PayPal has.

Tokens, PayPal-Request-Id, error mapping, currency rules, and how the port's verbs land on
orders, authorizations and captures. The provider-neutral behaviour is in
test_payment_gateway_contract.py (the `paypal` entry of GATEWAYS).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.payments.paypal.gateway import PayPalGateway, request_id
from justdriving.adapters.payments.paypal.money import (
    PAYPAL_CURRENCIES,
    WHOLE_UNIT_CURRENCIES,
    money_from_paypal,
    paypal_value,
)
from justdriving.domain.errors import (
    ConfigurationError,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.domain.people import EmailAddress
from justdriving.ports.payments import PaymentRequest, RefundRequest
from justdriving.testing.paypal.resources import fixture
from justdriving.testing.paypal.simulator import PayPalSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")
ORDERS = "/v2/checkout/orders"
SECRET = "sim-client-secret"


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def paypal() -> Iterator[PayPalSimulator]:
    with PayPalSimulator(clock=lambda: NOW, token_ttl=32400) as simulator:
        yield simulator


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def gateway(paypal: PayPalSimulator, ticker: Ticker) -> Iterator[PayPalGateway]:
    gateway = PayPalGateway(
        paypal.client_id,
        paypal.client_secret,
        paypal.webhook_id,
        api_base=paypal.base_url,
        monotonic=ticker,
    )
    yield gateway
    gateway.close()


def a_request(
    key: str | None = None,
    *,
    amount: Money = PRICE,
    mode: CaptureMode = CaptureMode.AUTOMATIC,
    return_url: str | None = "https://school.example/return",
) -> PaymentRequest:
    return PaymentRequest(
        payment_id=new_id("pay"),
        school_id="sch_1",
        amount=amount,
        description="Driving lesson",
        idempotency_key=key or new_id("key"),
        capture_mode=mode,
        customer_email=EmailAddress("student@example.dk"),
        return_url=return_url,
    )


def a_refund(order_id: str, amount: Money, key: str | None = None) -> RefundRequest:
    return RefundRequest(new_id("re"), order_id, amount, "lesson cancelled", key or new_id("key"))


def sent_json(paypal: PayPalSimulator, path: str) -> list[Any]:
    return [json.loads(r.body) for r in paypal.requests_to(path) if r.body]


def paid_order(gateway: PayPalGateway, paypal: PayPalSimulator) -> str:
    order_id = gateway.start(a_request()).provider_payment_id
    paypal.approve(order_id)
    gateway.capture(order_id, PRICE, new_id("key"))
    return order_id


# The access token -------------------------------------------------------------------------


def test_one_token_serves_many_calls(gateway: PayPalGateway, paypal: PayPalSimulator) -> None:
    for _ in range(3):
        gateway.start(a_request())
    assert paypal.tokens_issued == 1
    [token_request] = paypal.requests_to("/v1/oauth2/token")
    assert token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["authorization"].startswith("Basic ")


def test_a_token_is_renewed_shortly_before_it_expires(
    gateway: PayPalGateway, paypal: PayPalSimulator, ticker: Ticker
) -> None:
    gateway.start(a_request())
    ticker.seconds += 32400 - 301
    gateway.start(a_request())
    assert paypal.tokens_issued == 1
    ticker.seconds += 2
    gateway.start(a_request())
    assert paypal.tokens_issued == 2


def test_a_revoked_token_is_renewed_once_and_the_call_repeated_with_its_request_id(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    gateway.start(a_request())
    paypal.expire_tokens()
    session = gateway.start(a_request(key="key_after_revocation"))
    assert paypal.tokens_issued == 2
    ids = [r.request_id for r in paypal.requests_to(ORDERS)][-2:]
    assert ids == ["key_after_revocation", "key_after_revocation"]
    assert session.provider_payment_id in paypal.ledger.orders


def test_a_call_refused_twice_as_unauthorized_is_a_configuration_error(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    paypal.fail_next(401, path=ORDERS)
    paypal.fail_next(401, path=ORDERS)
    with pytest.raises(ConfigurationError) as raised:
        gateway.start(a_request())
    assert paypal.tokens_issued == 2
    assert "PAYMENT_PROVIDER_KEY" in str(raised.value)


def test_wrong_credentials_are_a_configuration_error_that_names_no_secret(
    paypal: PayPalSimulator,
) -> None:
    gateway = PayPalGateway(paypal.client_id, "not-the-secret", "WH1", api_base=paypal.base_url)
    with pytest.raises(ConfigurationError) as raised:
        gateway.start(a_request())
    assert "not-the-secret" not in str(raised.value)
    assert "invalid_client" in str(raised.value)


def test_no_error_text_holds_the_token_or_the_secret(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    gateway.start(a_request())
    token = next(iter(paypal._tokens))
    errors: list[Exception] = []
    for status in (400, 403, 404, 422, 429, 500):
        paypal.fail_next(status, path=ORDERS)
        with pytest.raises(Exception) as raised:  # noqa: PT011 - each status its own error
            gateway.start(a_request())
        errors.append(raised.value)
    texts = " ".join(f"{e!s} {e!r}" for e in errors) + repr(gateway)
    assert token not in texts
    assert SECRET not in texts


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigurationError) as raised:
        PayPalGateway("client", "", "")
    assert raised.value.problems == ("PAYMENT_PROVIDER_SECRET", "PAYMENT_WEBHOOK_SECRET")


# PayPal-Request-Id -------------------------------------------------------------------------


def test_a_retry_after_an_outage_sends_the_same_request_id_and_makes_one_order(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    request = a_request(key="key_start_1")
    paypal.fail_next(503)
    with pytest.raises(ProviderUnavailable):
        gateway.start(request)
    gateway.start(request)
    assert [r.request_id for r in paypal.requests_to(ORDERS)] == ["key_start_1", "key_start_1"]
    assert len(paypal.ledger.orders) == 1


def test_a_lost_answer_is_possibly_done_and_the_retry_gets_the_first_order_back(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    request = a_request()
    paypal.fail_next(500, processed=True)
    with pytest.raises(ProviderUnavailable) as raised:
        gateway.start(request)
    assert raised.value.possibly_done
    session = gateway.start(request)
    assert list(paypal.ledger.orders) == [session.provider_payment_id]


def test_a_read_timeout_is_possibly_done_and_the_retry_charges_once(
    paypal: PayPalSimulator,
) -> None:
    http = httpx.Client(timeout=httpx.Timeout(0.3))
    gateway = PayPalGateway(
        paypal.client_id, SECRET, paypal.webhook_id, api_base=paypal.base_url, http=http
    )
    request = a_request()
    gateway.start(a_request())  # the token, fetched before the stall
    paypal.stall_next(1.0, path=ORDERS)
    with pytest.raises(ProviderUnavailable) as raised:
        gateway.start(request)
    assert raised.value.possibly_done
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    first = gateway.start(request)
    assert gateway.start(request) == first
    assert len(paypal.ledger.orders) == 2
    http.close()


def test_capture_and_refund_keep_their_request_ids_across_retries(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request(mode=CaptureMode.MANUAL)).provider_payment_id
    paypal.approve(order_id)
    paypal.fail_next(503, path=f"{ORDERS}/{order_id}/authorize")
    with pytest.raises(ProviderUnavailable):
        gateway.capture(order_id, PRICE, "key_capture")
    gateway.capture(order_id, PRICE, "key_capture")
    [authorization] = paypal.ledger.order(order_id).authorizations
    capture_path = f"/v2/payments/authorizations/{authorization}/capture"
    assert {r.request_id for r in paypal.requests_to(f"{ORDERS}/{order_id}/authorize")} == {
        "key_capture:authorize"
    }
    assert [r.request_id for r in paypal.requests_to(capture_path)] == ["key_capture"]
    refund = a_refund(order_id, Money(100, "DKK"), key="key_refund")
    paypal.fail_next(500, processed=True)
    with pytest.raises(ProviderUnavailable):
        gateway.refund(refund)
    again = gateway.refund(refund)
    assert [r["id"] for r in paypal.refunds_for(order_id)] == [again.provider_refund_id]


def test_a_key_longer_than_paypal_takes_becomes_a_stable_digest() -> None:
    key = "k" * 200
    assert request_id(key) == request_id(key)
    assert len(request_id(key)) <= 108
    assert request_id("short") == "short"
    assert request_id("short", "authorize") == "short:authorize"


# Errors at the boundary ---------------------------------------------------------------------


def test_rate_limiting_is_unavailable_with_retry_after_and_nothing_done(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    paypal.fail_next(429, retry_after=7)
    with pytest.raises(ProviderUnavailable) as raised:
        gateway.start(a_request())
    assert raised.value.retry_after == 7.0
    assert raised.value.retryable
    assert not raised.value.possibly_done
    assert raised.value.provider_code == "RATE_LIMIT_REACHED"


def test_a_declined_instrument_is_payment_declined_with_the_issue(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request()).provider_payment_id
    paypal.approve(order_id)
    paypal.decline_next("INSTRUMENT_DECLINED")
    with pytest.raises(PaymentDeclined) as raised:
        gateway.capture(order_id, PRICE, new_id("key"))
    assert raised.value.provider_code == "INSTRUMENT_DECLINED"
    assert isinstance(raised.value, PaymentDeclined)


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, ProviderRejected, "INVALID_REQUEST"),
        (403, ConfigurationError, None),
        (404, ProviderRejected, "RESOURCE_NOT_FOUND"),
        (422, ProviderRejected, "UNPROCESSABLE_ENTITY"),
        (500, ProviderUnavailable, "INTERNAL_SERVER_ERROR"),
        (503, ProviderUnavailable, "SERVICE_UNAVAILABLE"),
    ],
)
def test_each_error_status_maps_to_one_justdriving_error(
    gateway: PayPalGateway,
    paypal: PayPalSimulator,
    status: int,
    error: type[Exception],
    code: str | None,
) -> None:
    paypal.fail_next(status, path=ORDERS)
    with pytest.raises(error) as raised:
        gateway.start(a_request())
    assert getattr(raised.value, "provider_code", None) == code


def test_an_unapproved_order_cannot_be_captured(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request()).provider_payment_id
    with pytest.raises(ProviderRejected) as raised:
        gateway.capture(order_id, PRICE, new_id("key"))
    assert raised.value.provider_code == "ORDER_NOT_APPROVED"


def test_an_unknown_order_is_rejected(gateway: PayPalGateway) -> None:
    with pytest.raises(ProviderRejected) as raised:
        gateway.cancel("NOSUCHORDER", new_id("key"))
    assert raised.value.provider_code == "INVALID_RESOURCE_ID"


def test_paypal_out_of_reach_is_unavailable_and_not_done() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = PayPalGateway("id", "secret", "WH", api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderUnavailable) as raised:
        gateway.start(a_request())
    assert not raised.value.possibly_done
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


# Currencies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "value"),
    [
        (Money(12550, "DKK"), "125.50"),
        (Money(5, "EUR"), "0.05"),
        (Money(1500, "JPY"), "1500"),
        (Money(150000, "HUF"), "1500"),
        (Money(99900, "TWD"), "999"),
        (Money(100, "USD"), "1.00"),
    ],
)
def test_amounts_are_sent_with_the_decimals_paypal_takes(amount: Money, value: str) -> None:
    assert paypal_value(amount) == value


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Money(150050, "HUF"), "DECIMALS_NOT_SUPPORTED"),
        (Money(99901, "TWD"), "DECIMALS_NOT_SUPPORTED"),
        (Money(1234, "BHD"), "CURRENCY_NOT_SUPPORTED"),
        (Money(1000, "KRW"), "CURRENCY_NOT_SUPPORTED"),
    ],
)
def test_amounts_paypal_cannot_take_are_refused_before_calling(amount: Money, code: str) -> None:
    with pytest.raises(ProviderRejected) as raised:
        paypal_value(amount)
    assert raised.value.provider_code == code


@given(
    currency=st.sampled_from(sorted(PAYPAL_CURRENCIES)),
    units=st.integers(min_value=1, max_value=10**9),
)
def test_every_amount_paypal_takes_comes_back_unchanged(currency: str, units: int) -> None:
    amount = Money(units * (100 if currency in ("HUF", "TWD") else 1), currency)
    wire = {"currency_code": currency, "value": paypal_value(amount)}
    assert money_from_paypal(wire) == amount
    if currency in WHOLE_UNIT_CURRENCIES:
        assert "." not in wire["value"]


def test_a_yen_order_reaches_paypal_in_whole_yen(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    gateway.start(a_request(amount=Money(4500, "JPY")))
    [body] = sent_json(paypal, ORDERS)
    assert body["purchase_units"][0]["amount"] == {"currency_code": "JPY", "value": "4500"}


# Starting -------------------------------------------------------------------------------------


def test_an_order_is_created_as_paypal_documents_it(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    request = a_request()
    session = gateway.start(request)
    [body] = sent_json(paypal, ORDERS)
    example = fixture("orders-create.request.json")
    assert set(body) == set(example)
    unit = body["purchase_units"][0]
    assert unit["custom_id"] == request.payment_id
    assert unit["amount"] == {"currency_code": "DKK", "value": "500.00"}
    context = body["payment_source"]["paypal"]["experience_context"]
    assert set(context) <= set(example["payment_source"]["paypal"]["experience_context"]) | {
        "shipping_preference"
    }
    assert context["return_url"] == request.return_url
    assert body["intent"] == "CAPTURE"
    assert session.redirect_url == paypal.order(session.provider_payment_id)["links"][1]["href"]


def test_a_manual_capture_creates_an_authorize_order(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    gateway.start(a_request(mode=CaptureMode.MANUAL))
    [body] = sent_json(paypal, ORDERS)
    assert body["intent"] == "AUTHORIZE"


def test_without_a_payment_source_the_payer_gets_the_approve_link(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    session = gateway.start(evolve(a_request(return_url=None), customer_email=None))
    order = paypal.order(session.provider_payment_id)
    assert order["status"] == "CREATED"
    assert session.redirect_url == next(x["href"] for x in order["links"] if x["rel"] == "approve")


# Capturing, cancelling, refunding -------------------------------------------------------------


def test_an_approved_authorize_order_is_authorized_then_captured_in_part(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request(mode=CaptureMode.MANUAL)).provider_payment_id
    paypal.approve(order_id)
    gateway.capture(order_id, Money(20000, "DKK"), new_id("key"))
    [capture] = paypal.order(order_id)["purchase_units"][0]["payments"]["captures"]
    assert capture["amount"] == {"currency_code": "DKK", "value": "200.00"}
    assert capture["custom_id"] == paypal.ledger.order(order_id).custom_id


def test_more_than_the_authorization_holds_is_refused_without_asking_paypal(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request(mode=CaptureMode.MANUAL)).provider_payment_id
    paypal.authorize(order_id)
    with pytest.raises(ProviderRejected) as raised:
        gateway.capture(order_id, Money(50001, "DKK"), new_id("key"))
    assert raised.value.provider_code == "CAPTURE_AMOUNT_EXCEEDS_AUTHORIZATION"
    assert not [r for r in paypal.requests if r.path.endswith("/capture")]


def test_a_capture_order_is_captured_in_full_only(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request()).provider_payment_id
    paypal.approve(order_id)
    with pytest.raises(ProviderRejected) as raised:
        gateway.capture(order_id, Money(100, "DKK"), new_id("key"))
    assert raised.value.provider_code == "AMOUNT_MISMATCH"


def test_completing_an_approval_captures_or_authorizes_once(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    automatic = gateway.start(a_request()).provider_payment_id
    manual = gateway.start(a_request(mode=CaptureMode.MANUAL)).provider_payment_id
    for order_id in (automatic, manual):
        paypal.approve(order_id)
        gateway.complete(order_id, "key_approval")
        gateway.complete(order_id, "key_approval")
    assert len(paypal.ledger.order(automatic).captures) == 1
    assert paypal.ledger.order(automatic).status == "COMPLETED"
    [authorization] = paypal.ledger.order(manual).authorizations
    assert paypal.ledger.authorizations[authorization].status == "CREATED"


def test_cancelling_an_unapproved_order_asks_paypal_for_nothing_but_the_order(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request()).provider_payment_id
    gateway.cancel(order_id, new_id("key"))
    assert [r.method for r in paypal.requests if r.path.startswith(ORDERS)] == ["POST", "GET"]


def test_cancelling_a_held_payment_voids_its_authorization_once(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request(mode=CaptureMode.MANUAL)).provider_payment_id
    paypal.authorize(order_id)
    gateway.cancel(order_id, "key_void")
    gateway.cancel(order_id, "key_void")
    [authorization] = paypal.ledger.order(order_id).authorizations
    assert paypal.ledger.authorizations[authorization].status == "VOIDED"
    assert len([r for r in paypal.requests if r.path.endswith("/void")]) == 1


def test_a_refund_names_our_refund_and_payment_and_finds_the_capture_once(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = gateway.start(a_request()).provider_payment_id
    paypal.complete_capture(order_id)
    first = a_refund(order_id, Money(10000, "DKK"))
    gateway.refund(first)
    gateway.refund(a_refund(order_id, Money(10000, "DKK")))
    [capture] = paypal.ledger.order(order_id).captures
    [body, _] = sent_json(paypal, f"/v2/payments/captures/{capture}/refund")
    assert body == {
        "amount": {"currency_code": "DKK", "value": "100.00"},
        "invoice_id": first.refund_id,
        "note_to_payer": "lesson cancelled",
        "custom_id": paypal.ledger.order(order_id).custom_id,
    }
    assert set(body) - {"custom_id"} <= set(fixture("captures-refund.request.json"))
    gets = [r for r in paypal.requests_to(f"{ORDERS}/{order_id}") if r.method == "GET"]
    assert len(gets) == 1


def test_a_refund_of_a_capture_the_gateway_made_needs_no_lookup(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    order_id = paid_order(gateway, paypal)
    gets_before = len(paypal.requests_to(f"{ORDERS}/{order_id}"))
    result = gateway.refund(a_refund(order_id, PRICE))
    assert len(paypal.requests_to(f"{ORDERS}/{order_id}")) == gets_before
    assert result.status.value == "succeeded"

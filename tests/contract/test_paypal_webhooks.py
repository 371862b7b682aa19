"""PayPal webhooks: verification through verify-webhook-signature, and what each event means."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from justdriving.adapters.payments.paypal.gateway import PayPalGateway
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedWebhook,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.ports.payments import PaymentRequest, RefundRequest
from justdriving.testing.paypal.resources import fixture
from justdriving.testing.paypal.simulator import Delivery, PayPalSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PRICE = Money(50000, "DKK")
VERIFY = "/v1/notifications/verify-webhook-signature"


@pytest.fixture
def paypal() -> Iterator[PayPalSimulator]:
    with PayPalSimulator(clock=lambda: NOW, refund_status="PENDING") as simulator:
        yield simulator


@pytest.fixture
def gateway(paypal: PayPalSimulator) -> Iterator[PayPalGateway]:
    gateway = PayPalGateway(
        paypal.client_id, paypal.client_secret, paypal.webhook_id, api_base=paypal.base_url
    )
    yield gateway
    gateway.close()


def started(gateway: PayPalGateway, mode: CaptureMode = CaptureMode.AUTOMATIC) -> tuple[str, str]:
    """(our payment id, PayPal's order id) of a new order."""
    payment_id = new_id("pay")
    session = gateway.start(
        PaymentRequest(payment_id, "sch_1", PRICE, "Lesson", new_id("key"), capture_mode=mode)
    )
    return payment_id, session.provider_payment_id


def parsed(gateway: PayPalGateway, delivery: Delivery) -> ProviderPaymentEvent:
    [event] = gateway.parse_webhook(*delivery, NOW)
    return event


# Verification ------------------------------------------------------------------------------


def test_a_delivery_paypal_verifies_is_accepted(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    payment_id, order_id = started(gateway)
    event = parsed(gateway, paypal.approve(order_id))
    assert (event.payment_id, event.provider_payment_id) == (payment_id, order_id)


def test_the_verification_request_carries_the_raw_body_and_the_documented_fields(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    _, order_id = started(gateway)
    body, _ = paypal.approve(order_id)
    odd_body = body.replace(b", ", b" ,  ")  # same JSON, other bytes: must reach PayPal as is
    headers = paypal.sign(odd_body, NOW)
    gateway.parse_webhook(odd_body, headers, NOW)
    [request] = paypal.requests_to(VERIFY)
    sent = json.loads(request.body)
    assert set(sent) == set(fixture("verify-webhook-signature.request.json"))
    assert request.body.endswith(b'"webhook_event":' + odd_body + b"}")
    assert sent["webhook_id"] == paypal.webhook_id
    assert sent["transmission_sig"] == headers["PAYPAL-TRANSMISSION-SIG"]
    assert sent["transmission_time"] == headers["PAYPAL-TRANSMISSION-TIME"]


def test_a_delivery_paypal_does_not_verify_is_rejected(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    _, order_id = started(gateway)
    body, _ = paypal.approve(order_id)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(body, paypal.sign(body, NOW, webhook_id="ANOTHERWEBHOOK"), NOW)


@pytest.mark.parametrize("seconds", [301, -301, 86400])
def test_a_stale_or_future_transmission_is_rejected_without_asking_paypal(
    gateway: PayPalGateway, paypal: PayPalSimulator, seconds: int
) -> None:
    _, order_id = started(gateway)
    body, _ = paypal.approve(order_id)
    headers = paypal.sign(body, NOW - timedelta(seconds=seconds))
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(body, headers, NOW)
    assert not paypal.requests_to(VERIFY)


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ],
)
def test_a_delivery_without_a_transmission_header_is_rejected(
    gateway: PayPalGateway, paypal: PayPalSimulator, header: str
) -> None:
    _, order_id = started(gateway)
    body, headers = paypal.approve(order_id)
    del headers[header]
    with pytest.raises(InvalidSignature, match=header):
        gateway.parse_webhook(body, headers, NOW)


def test_header_names_are_matched_without_regard_to_case(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    _, order_id = started(gateway)
    body, headers = paypal.approve(order_id)
    lower = {name.title(): value for name, value in headers.items()}
    assert gateway.parse_webhook(body, lower, NOW)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff{}", b""])
def test_a_body_that_is_not_a_json_object_cannot_be_verified(
    gateway: PayPalGateway, paypal: PayPalSimulator, body: bytes
) -> None:
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(body, paypal.sign(body, NOW), NOW)
    assert not paypal.requests_to(VERIFY)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_the_verification_endpoint_down_is_unavailable_so_paypal_retries(
    gateway: PayPalGateway, paypal: PayPalSimulator, status: int
) -> None:
    _, order_id = started(gateway)
    delivery = paypal.approve(order_id)
    paypal.fail_next(status, path=VERIFY)
    with pytest.raises(ProviderUnavailable):
        gateway.parse_webhook(*delivery, NOW)
    assert parsed(gateway, delivery).kind is PaymentEventKind.APPROVED


def test_paypal_out_of_reach_during_verification_is_unavailable(paypal: PayPalSimulator) -> None:
    body = b'{"id": "WH-1"}'
    headers = paypal.sign(body, NOW)
    gateway = PayPalGateway("id", "secret", "WH", api_base="http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable):
        gateway.parse_webhook(body, headers, NOW)


def test_a_verification_paypal_refuses_as_invalid_is_an_invalid_signature(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    _, order_id = started(gateway)
    delivery = paypal.approve(order_id)
    paypal.fail_next(400, path=VERIFY)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(*delivery, NOW)


def test_bad_credentials_during_verification_are_a_configuration_error(
    paypal: PayPalSimulator,
) -> None:
    body = b'{"id": "WH-1"}'
    gateway = PayPalGateway(paypal.client_id, "wrong", "WH", api_base=paypal.base_url)
    with pytest.raises(ConfigurationError):
        gateway.parse_webhook(body, paypal.sign(body, NOW), NOW)


def test_the_specs_own_example_is_not_signed_by_the_simulator(paypal: PayPalSimulator) -> None:
    import httpx

    example = fixture("verify-webhook-signature.request.json")
    token = httpx.post(
        paypal.base_url + "/v1/oauth2/token",
        auth=(paypal.client_id, paypal.client_secret),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    answer = httpx.post(
        paypal.base_url + VERIFY, json=example, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.json() == {"verification_status": "FAILURE"}


# What the events say ------------------------------------------------------------------------


def test_the_specs_authorization_event_parses(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    body = json.dumps(fixture("PAYMENT.AUTHORIZATION.CREATED.json")).encode()
    event = parsed(gateway, (body, paypal.sign(body, NOW)))
    assert event.kind is PaymentEventKind.AUTHORIZED
    assert event.event_id == "8PT597110X687430LKGECATA"
    assert event.amount == Money(747, "USD")
    assert event.occurred_at == datetime(2013, 6, 25, 21, 41, 28, tzinfo=UTC)
    assert event.payment_id is None  # a v1 event carries no custom_id


def test_an_approved_order_requires_our_action(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    payment_id, order_id = started(gateway)
    event = parsed(gateway, paypal.approve(order_id))
    assert event.payment_id == payment_id
    assert event.kind is PaymentEventKind.APPROVED
    assert event.raw_type == "CHECKOUT.ORDER.APPROVED"
    assert event.amount == PRICE


@pytest.mark.parametrize(
    ("act", "kind", "raw_type"),
    [
        (
            lambda p, o: p.complete_capture(o),
            PaymentEventKind.SUCCEEDED,
            "PAYMENT.CAPTURE.COMPLETED",
        ),
        (lambda p, o: p.capture_pending(o), PaymentEventKind.PROCESSING, "PAYMENT.CAPTURE.PENDING"),
        (lambda p, o: p.deny(o, "OTHER"), PaymentEventKind.FAILED, "PAYMENT.CAPTURE.DENIED"),
    ],
    ids=["completed", "pending", "denied"],
)
def test_capture_events_carry_our_payment_and_paypals_order(
    gateway: PayPalGateway,
    paypal: PayPalSimulator,
    act: object,
    kind: PaymentEventKind,
    raw_type: str,
) -> None:
    payment_id, order_id = started(gateway)
    event = parsed(gateway, act(paypal, order_id))  # type: ignore[operator]
    assert (event.kind, event.raw_type) == (kind, raw_type)
    assert (event.payment_id, event.provider_payment_id) == (payment_id, order_id)
    assert event.amount == PRICE
    if kind is PaymentEventKind.FAILED:
        assert event.failure_code == "OTHER"


def test_authorization_events_hold_and_release(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    payment_id, order_id = started(gateway, CaptureMode.MANUAL)
    held = parsed(gateway, paypal.authorize(order_id))
    released = parsed(gateway, paypal.expire_authorization(order_id))
    assert (held.kind, released.kind) == (PaymentEventKind.AUTHORIZED, PaymentEventKind.CANCELED)
    assert {held.payment_id, released.payment_id} == {payment_id}
    assert {held.provider_payment_id, released.provider_payment_id} == {order_id}


@pytest.mark.parametrize("succeeded", [True, False])
def test_refund_events_name_our_refund_by_its_status(
    gateway: PayPalGateway, paypal: PayPalSimulator, succeeded: bool
) -> None:
    payment_id, order_id = started(gateway)
    paypal.complete_capture(order_id)
    request = RefundRequest(new_id("re"), order_id, Money(12500, "DKK"), "sorry", new_id("key"))
    result = gateway.refund(request)
    assert result.status.value == "pending"
    if succeeded:
        delivery = paypal.refund_completed(result.provider_refund_id)
    else:
        delivery = paypal.refund_failed(result.provider_refund_id)
    event = parsed(gateway, delivery)
    expected = PaymentEventKind.REFUND_SUCCEEDED if succeeded else PaymentEventKind.REFUND_FAILED
    assert event.kind is expected
    assert (event.refund_id, event.provider_refund_id) == (
        request.refund_id,
        result.provider_refund_id,
    )
    assert event.payment_id == payment_id
    assert event.amount == Money(12500, "DKK")
    if not succeeded:  # PayPal documents no failure reason for a refund but ECHECK
        assert event.failure_code is None


def test_a_reversal_is_money_returned_that_names_no_refund_of_ours(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    payment_id, order_id = started(gateway)
    paypal.complete_capture(order_id)
    event = parsed(gateway, paypal.reverse(order_id))
    assert event.kind is PaymentEventKind.REFUND_SUCCEEDED
    assert event.refund_id is None
    assert event.payment_id == payment_id


def test_a_dispute_opens_moves_and_closes_in_the_domains_words(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    payment_id, order_id = started(gateway)
    paypal.complete_capture(order_id)
    opened = parsed(gateway, paypal.open_dispute(order_id))
    dispute_id = opened.provider_dispute_id
    assert dispute_id is not None
    updated = parsed(gateway, paypal.update_dispute(dispute_id, "UNDER_REVIEW"))
    closed = parsed(gateway, paypal.resolve_dispute(dispute_id, "RESOLVED_SELLER_FAVOUR"))
    assert [(e.kind, e.dispute_status) for e in (opened, updated, closed)] == [
        (PaymentEventKind.DISPUTE_OPENED, "needs_response"),
        (PaymentEventKind.DISPUTE_UPDATED, "under_review"),
        (PaymentEventKind.DISPUTE_CLOSED, "won"),
    ]
    assert {opened.payment_id, closed.payment_id} == {payment_id}
    assert opened.amount == PRICE


def test_an_event_type_not_handled_is_unknown_and_keeps_its_name(
    gateway: PayPalGateway, paypal: PayPalSimulator
) -> None:
    event = parsed(gateway, paypal.webhook("BILLING.PLAN.CREATED", {"id": "P-1"}, "plan"))
    assert event.kind is PaymentEventKind.UNKNOWN
    assert event.raw_type == "BILLING.PLAN.CREATED"


@pytest.mark.parametrize(
    "event",
    [
        {"id": "WH-1"},
        {"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "create_time": "yesterday"},
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2025-03-14T09:30:00Z",
        },
        {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2025-03-14T09:30:00Z",
            "resource": {"amount": {"currency_code": "DKK", "value": "1.234"}},
        },
    ],
    ids=["no-type", "bad-time", "no-resource", "bad-amount"],
)
@pytest.mark.off_spec("deliveries no documented event matches", parts=("request", "webhook"))
def test_a_verified_delivery_that_is_not_a_documented_event_is_malformed(
    gateway: PayPalGateway, paypal: PayPalSimulator, event: dict[str, object]
) -> None:
    body = json.dumps(event).encode()
    with pytest.raises(MalformedWebhook):
        gateway.parse_webhook(body, paypal.sign(body, NOW), NOW)


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("PAYMENT.CAPTURE.COMPLETED", PaymentEventKind.SUCCEEDED),
        ("PAYMENT.AUTHORIZATION.CREATED", PaymentEventKind.AUTHORIZED),
    ],
)
def test_a_capture_or_authorization_that_states_no_amount_reports_none(
    gateway: PayPalGateway, paypal: PayPalSimulator, event_type: str, kind: PaymentEventKind
) -> None:
    # The domain holds such a payment for review: an amount nobody stated is never assumed.
    event = {
        "id": "WH-1",
        "event_type": event_type,
        "create_time": "2025-03-14T09:30:00Z",
        "resource": {"id": "CAP-1", "custom_id": "pay_1", "status": "COMPLETED"},
    }
    body = json.dumps(event).encode()
    parsed_event = parsed(gateway, (body, paypal.sign(body, NOW)))
    assert (parsed_event.kind, parsed_event.payment_id) == (kind, "pay_1")
    assert parsed_event.amount is None

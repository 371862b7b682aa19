"""Vipps MobilePay's webhook signature and event mapping, and the references that carry our ids.

The signing vector is the one Vipps MobilePay publishes in its Webhooks API documentation
("Request authentication": a registered secret, the URL, x-ms-date, the body, and the expected
content hash and signature); facts of the scheme, not code of theirs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.payments.mobilepay import recurring, signature
from justdriving.adapters.payments.mobilepay import reference as refs
from justdriving.adapters.payments.mobilepay import webhooks as hooks
from justdriving.domain.errors import InvalidSignature, MalformedWebhook, ProviderRejected
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind

DOC_SECRET = (
    "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
)
DOC_URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
DOC_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
DOC_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
DOC_HASH = "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
DOC_SIGNATURE = "agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
DOC_NOW = datetime(2023, 3, 30, 8, 38, 32, tzinfo=UTC)
ENDPOINT = signature.Endpoint.of(DOC_URL, DOC_SECRET)
MSN = "123456"


def doc_headers(**changed: str) -> dict[str, str]:
    headers = {
        "x-ms-date": DOC_DATE,
        "x-ms-content-sha256": DOC_HASH,
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={DOC_SIGNATURE}",
    }
    return {**headers, **changed}


def test_the_published_vector_hashes_signs_and_verifies() -> None:
    assert signature.content_hash(DOC_BODY) == DOC_HASH
    host, path = "webhook.site", "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
    assert signature.signature(DOC_SECRET, path, DOC_DATE, host, DOC_HASH) == DOC_SIGNATURE
    signature.verify(DOC_BODY, doc_headers(), ENDPOINT, DOC_NOW)


@pytest.mark.parametrize(
    "headers",
    [
        doc_headers(**{"x-ms-content-sha256": "A" + DOC_HASH[1:]}),
        doc_headers(Authorization="HMAC-SHA256 SignedHeaders=x-ms-date;host&Signature=x"),
        doc_headers(**{"x-ms-date": "Thu, 30 Mar 2023 08:38:33 GMT"}),
        doc_headers(**{"x-ms-date": "yesterday"}),
        {},
    ],
    ids=["hash", "signature", "date-changed", "date-garbage", "nothing"],
)
def test_any_change_to_the_signed_parts_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        signature.verify(DOC_BODY, headers, ENDPOINT, DOC_NOW)


def test_the_signature_covers_the_registered_url() -> None:
    for url in (DOC_URL + "?x=1", "https://evil.example/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"):
        with pytest.raises(InvalidSignature):
            signature.verify(
                DOC_BODY, doc_headers(), signature.Endpoint.of(url, DOC_SECRET), DOC_NOW
            )


@pytest.mark.parametrize("seconds", [301, -301])
def test_a_date_more_than_five_minutes_away_is_a_replay(seconds: int) -> None:
    with pytest.raises(InvalidSignature, match="five minutes"):
        signature.verify(DOC_BODY, doc_headers(), ENDPOINT, DOC_NOW + timedelta(seconds=seconds))


# Events ------------------------------------------------------------------------------------


def an_event(name: str, reference: str, **extra: Any) -> bytes:
    event = {
        "msn": MSN,
        "reference": reference,
        "pspReference": "psp-1",
        "name": name,
        "amount": {"currency": "DKK", "value": 50000},
        "timestamp": "2025-03-14T09:30:00.123Z",
        "idempotencyKey": None,
        "success": True,
        **extra,
    }
    return json.dumps(event).encode()


AUTOMATIC = refs.payment_reference("pay_1", False, "key", "mobilepay")
HOLD = refs.payment_reference("pay_1", True, "key", "mobilepay")


@pytest.mark.parametrize(
    ("name", "reference", "kind"),
    [
        ("AUTHORIZED", AUTOMATIC, PaymentEventKind.APPROVED),
        ("AUTHORIZED", HOLD, PaymentEventKind.AUTHORIZED),
        ("CAPTURED", AUTOMATIC, PaymentEventKind.SUCCEEDED),
        ("CANCELLED", HOLD, PaymentEventKind.CANCELED),
        ("TERMINATED", AUTOMATIC, PaymentEventKind.CANCELED),
        ("ABORTED", AUTOMATIC, PaymentEventKind.FAILED),
        ("EXPIRED", AUTOMATIC, PaymentEventKind.FAILED),
        ("CREATED", AUTOMATIC, PaymentEventKind.UNKNOWN),
        ("SOMETHING_NEW", AUTOMATIC, PaymentEventKind.UNKNOWN),
    ],
)
def test_each_epayment_event_maps_to_the_transition_the_other_gateways_use(
    name: str, reference: str, kind: PaymentEventKind
) -> None:
    event = hooks.parse_event(an_event(name, reference), "mobilepay", MSN)
    assert event.kind is kind
    assert event.event_id == f"{reference}:{name}:psp-1"
    assert event.occurred_at == datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)
    if kind is not PaymentEventKind.UNKNOWN or name == "CREATED":
        assert (event.payment_id, event.provider_payment_id) == ("pay_1", reference)
    if kind is PaymentEventKind.FAILED:
        assert event.failure_code == name


def test_a_refund_event_names_our_refund_by_its_idempotency_key() -> None:
    key = refs.refund_key("re_9f", "our-key", "mobilepay")
    event = hooks.parse_event(an_event("REFUNDED", AUTOMATIC, idempotencyKey=key), "m", MSN)
    assert (event.kind, event.refund_id, event.provider_refund_id) == (
        PaymentEventKind.REFUND_SUCCEEDED,
        "re_9f",
        "psp-1",
    )
    assert event.amount == Money(50000, "DKK")
    failed = hooks.parse_event(an_event("REFUNDED", AUTOMATIC, success=False), "m", MSN)
    assert failed.kind is PaymentEventKind.REFUND_FAILED


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        an_event("CAPTURED", AUTOMATIC, msn="999999"),  # another sales unit's
        an_event("CAPTURED", "someone-elses-ref"),
        an_event("CAPTURED", AUTOMATIC, amount={"currency": "DKK", "value": -1}),
        an_event("CAPTURED", AUTOMATIC, amount={"currency": "USD", "value": 1}),
        an_event("CAPTURED", AUTOMATIC, timestamp="2025-03-14T09:30:00"),
        an_event("CAPTURED", AUTOMATIC, success="yes"),
        an_event("CAPTURED", AUTOMATIC, pspReference=7),
    ],
)
def test_what_is_not_an_epayment_event_of_ours_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        hooks.parse_event(body, "mobilepay", MSN)


# References ----------------------------------------------------------------------------------

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-", min_size=1, max_size=38)


@given(payment_id=ids, manual=st.booleans(), key=st.text(max_size=80))
def test_a_reference_carries_the_payment_id_and_the_hold_back(
    payment_id: str, manual: bool, key: str
) -> None:
    if len(refs.encode(payment_id, "mobilepay")) + 11 > refs.MAX_REFERENCE:
        with pytest.raises(ProviderRejected, match="too long"):
            refs.payment_reference(payment_id, manual, key, "mobilepay")
        return
    reference = refs.payment_reference(payment_id, manual, key, "mobilepay")
    assert refs.is_reference(reference)
    assert refs.payment_of(reference) == (payment_id, manual)
    assert refs.is_manual(reference) is manual


@given(refund_id=ids, key=st.text(max_size=80))
def test_a_refund_key_carries_the_refund_id_back(refund_id: str, key: str) -> None:
    if len(refs.encode(refund_id, "mobilepay")) + 10 > refs.MAX_KEY:
        with pytest.raises(ProviderRejected, match="too long"):
            refs.refund_key(refund_id, key, "mobilepay")
        return
    wire = refs.refund_key(refund_id, key, "mobilepay")
    assert len(wire) <= refs.MAX_KEY
    assert refs.refund_of(wire) == refund_id


def test_the_ids_we_make_fit() -> None:
    from justdriving.domain.ids import new_id

    for prefix in ("pay", "re"):
        made = new_id(prefix)
        assert refs.payment_of(refs.payment_reference(made, False, "k", "m"))[0] == made
        assert refs.refund_of(refs.refund_key(made, "k", "m")) == made


def test_ids_that_cannot_travel_are_refused_by_name() -> None:
    with pytest.raises(ProviderRejected, match="letters"):
        refs.payment_reference("pay 1", False, "k", "mobilepay")
    with pytest.raises(ProviderRejected, match="too long"):
        refs.payment_reference("pay_" + "a" * 60, False, "k", "mobilepay")
    assert refs.refund_of(None) is None
    assert refs.refund_of("someone-elses-key") is None


def test_a_problem_quoting_a_phone_number_does_not_pass_it_on() -> None:
    import httpx

    from justdriving.adapters.payments.mobilepay.api import Credentials, MobilePayApi

    api = MobilePayApi(Credentials("i", "s", "k", "123456"), api_base="http://x", provider="m")
    body = {"title": "Bad Request", "detail": "customer.phoneNumber 4520123456 is not valid"}
    error = api.error_for("POST", "/epayment/v1/payments", httpx.Response(400, json=body))
    assert "4520123456" not in str(error)
    assert "<number>" in str(error)


# Recurring API events ----------------------------------------------------------------------

AGREEMENT = "agr_5kSeqz"


def recurring_event(event_type: str, **fields: Any) -> bytes:
    event = {
        "agreementId": AGREEMENT,
        "eventType": event_type,
        "occurred": "2025-03-03T09:00:00Z",
        "msn": MSN,
        **fields,
    }
    return json.dumps(event).encode()


def test_an_approved_agreement_is_a_saved_method_of_our_customer() -> None:
    external = recurring.customer_reference("cust_ab-1", "mobilepay")
    body = recurring_event("recurring.agreement-activated.v1", agreementExternalId=external)
    event = hooks.parse_event(body, "mobilepay", MSN)
    assert event.kind is PaymentEventKind.SETUP_SUCCEEDED
    assert (event.customer_id, event.provider_setup_id, event.provider_method_id) == (
        "cust_ab-1",
        AGREEMENT,
        AGREEMENT,
    )


@pytest.mark.parametrize(
    ("event_type", "code"),
    [
        ("recurring.agreement-rejected.v1", "rejected"),
        ("recurring.agreement-expired.v1", "expired"),
    ],
)
def test_an_agreement_the_student_did_not_approve_is_a_failed_setup(
    event_type: str, code: str
) -> None:
    event = hooks.parse_event(recurring_event(event_type), "mobilepay", MSN)
    assert (event.kind, event.failure_code, event.customer_id) == (
        PaymentEventKind.SETUP_FAILED,
        code,
        None,
    )


def test_a_charge_event_names_our_payment_by_its_charge_id() -> None:
    charge_id = refs.payment_reference("pay_1-x", False, "key_1", "mobilepay")
    captured = recurring_event(
        "recurring.charge-captured.v1", chargeId=charge_id, amount=30000, currency="DKK"
    )
    event = hooks.parse_event(captured, "mobilepay", MSN)
    assert (event.kind, event.payment_id, event.amount) == (
        PaymentEventKind.SUCCEEDED,
        "pay_1-x",
        Money(30000, "DKK"),
    )
    failed = recurring_event(
        "recurring.charge-failed.v1",
        chargeId=charge_id,
        amount=30000,
        currency="DKK",
        failureReason="user_action_required",
    )
    event = hooks.parse_event(failed, "mobilepay", MSN)
    assert (event.kind, event.failure_code) == (PaymentEventKind.FAILED, "user_action_required")
    assert event.event_id != hooks.parse_event(captured, "mobilepay", MSN).event_id


@pytest.mark.parametrize(
    "body",
    [
        recurring_event("recurring.charge-captured.v1", agreementId=None, chargeId="a1"),
        recurring_event("recurring.agreement-activated.v1", msn="999999"),
        recurring_event("recurring.agreement-activated.v1", occurred="yesterday"),
        recurring_event("recurring.charge-captured.v1", chargeId="someone-elses", amount=1),
        recurring_event(
            "recurring.charge-captured.v1",
            chargeId=refs.payment_reference("pay_1", False, "k", "mobilepay"),
            amount=100,
            currency="SEK",
        ),
    ],
)
def test_what_is_not_a_recurring_event_of_ours_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        hooks.parse_event(body, "mobilepay", MSN)


def test_a_recurring_event_we_do_not_act_on_moves_nothing() -> None:
    for event_type in ("recurring.agreement-stopped.v1", "recurring.charge-reserved.v1"):
        body = recurring_event(event_type, chargeId="chr-1", amount=1, currency="DKK")
        assert hooks.parse_event(body, "mobilepay", MSN).kind is PaymentEventKind.UNKNOWN


def test_recurring_idempotency_keys_fit_the_api() -> None:
    for step in ("agreement", "charge", "stop"):
        key = recurring.recurring_key("x" * 300, step)
        assert len(key) <= 40
        assert not set(key) & set("#?/\\")
        assert key == recurring.recurring_key("x" * 300, step)

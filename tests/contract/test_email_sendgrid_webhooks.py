"""SendGridWebhooks: the signed Event Webhook checked against SendGrid's own known-answer
vector and the simulator's deliveries, and each event mapped to a delivery receipt."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from justdriving.adapters.email.sendgrid.events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendGridWebhooks,
)
from justdriving.adapters.email.sendgrid.sender import SendGridEmailSender
from justdriving.adapters.memory import FrozenClock
from justdriving.domain.errors import ConfigurationError, InvalidSignature, MalformedWebhook
from justdriving.domain.messages import EmailMessage, MessageStatus, SendReceipt
from justdriving.domain.people import EmailAddress
from justdriving.testing.sendgrid.simulator import SendGridSimulator

# Known-answer vector "sendgrid-event-webhook-ecdsa" from shared/fixtures/signatures.json,
# taken from sendgrid/sendgrid-python test/unit/test_eventwebhook.py (commit 1dcc378b, MIT);
# checked there with sendgrid 6.12.5's EventWebhook and the cryptography package.
VECTOR_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62g"
    "w+2fNNRaINXvVpiglSI8eNEc6wEA3F+g=="
)
VECTOR_TIMESTAMP = "1600112502"
VECTOR_BODY = (
    b'[{"email":"hello@world.com","event":"dropped","reason":"Bounced Address",'
    b'"sg_event_id":"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",'
    b'"sg_message_id":"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",'
    b'"smtp-id":"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",'
    b'"timestamp":1600112492}]\r\n'
)
VECTOR_SIGNATURE = (
    "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+"
    "uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM="
)
VECTOR_AT = datetime.fromtimestamp(int(VECTOR_TIMESTAMP), UTC)
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def vector_headers(**changes: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: VECTOR_SIGNATURE, TIMESTAMP_HEADER: VECTOR_TIMESTAMP, **changes}


# The known answer ------------------------------------------------------------------------


def test_sendgrids_own_vector_verifies_and_parses() -> None:
    assert len(VECTOR_BODY) == 327  # payload_bytes and payload_sha256 of the vector
    assert hashlib.sha256(VECTOR_BODY).hexdigest() == (
        "ef3e4606385ea6adbc55fceb6117cf2784040cf145a010e5ef4afc2bc7c70452"
    )
    receipts = SendGridWebhooks(VECTOR_KEY).parse(VECTOR_BODY, vector_headers(), VECTOR_AT)
    assert len(receipts) == 1
    dropped = receipts[0]
    assert dropped.event_id == "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"
    assert dropped.provider_message_id == "LRzXl_NHStOGhQ4kofSm_A"
    assert dropped.status is MessageStatus.FAILED
    assert dropped.suppress  # dropped because the address bounced before
    assert dropped.error_code == "Bounced Address"
    assert dropped.occurred_at == datetime.fromtimestamp(1600112492, UTC)
    assert dropped.provider == "sendgrid"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (VECTOR_BODY.removesuffix(b"\r\n"), vector_headers()),  # the CRLF is signed
        (VECTOR_BODY.removesuffix(b"\r\n") + b"\n", vector_headers()),
        (VECTOR_BODY, vector_headers(**{TIMESTAMP_HEADER: "1600112503"})),
        (VECTOR_BODY.replace(b"dropped", b"delivered"), vector_headers()),
    ],
    ids=["no-crlf", "lf-only", "other-timestamp", "tampered-event"],
)
def test_the_vectors_negatives_are_refused(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        SendGridWebhooks(VECTOR_KEY).parse(body, headers, VECTOR_AT)


def test_within_the_tolerance_either_way_is_accepted() -> None:
    webhooks = SendGridWebhooks(VECTOR_KEY)
    for skew in (-300, 300):
        moment = VECTOR_AT + timedelta(seconds=skew)
        assert webhooks.parse(VECTOR_BODY, vector_headers(), moment)


@pytest.mark.parametrize(
    "headers",
    [
        {TIMESTAMP_HEADER: VECTOR_TIMESTAMP},
        {SIGNATURE_HEADER: VECTOR_SIGNATURE},
        vector_headers(**{SIGNATURE_HEADER: "not base64!"}),
        vector_headers(**{SIGNATURE_HEADER: "bm90IGEgc2lnbmF0dXJl"}),
        vector_headers(**{TIMESTAMP_HEADER: "yesterday"}),
    ],
    ids=["no-signature", "no-timestamp", "not-base64", "not-der", "not-a-time"],
)
def test_missing_or_garbled_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        SendGridWebhooks(VECTOR_KEY).parse(VECTOR_BODY, headers, VECTOR_AT)


def test_header_names_are_matched_case_insensitively() -> None:
    headers = {name.lower(): value for name, value in vector_headers().items()}
    assert SendGridWebhooks(VECTOR_KEY).parse(VECTOR_BODY, headers, VECTOR_AT)


@pytest.mark.parametrize("key", ["", "not a key", "bm90IGEga2V5"])
def test_a_bad_public_key_is_a_configuration_error(key: str) -> None:
    with pytest.raises(ConfigurationError, match="MAIL_WEBHOOK_SECRET"):
        SendGridWebhooks(key)


# Through the simulator: a mail sent, then its events -------------------------------------


@pytest.fixture
def simulator() -> Iterator[SendGridSimulator]:
    with SendGridSimulator(clock=FrozenClock(NOW)) as running:
        yield running


@pytest.fixture
def receipt(simulator: SendGridSimulator) -> SendReceipt:
    sender = SendGridEmailSender(
        simulator.api_key, from_address="noreply@koreskolen.dk", api_base=simulator.api_base
    )
    message = EmailMessage(
        to=EmailAddress("sofie@example.dk"),
        subject="Faktura",
        text="Se vedhæftet.",
        reference="msg_42",
    )
    return sender.send(message)


def parse(simulator: SendGridSimulator, *kinds: str, **fields: Any) -> list[Any]:
    body, headers = simulator.events(simulator.mails[0], *kinds, **fields)
    return SendGridWebhooks(simulator.public_key).parse(body, headers, NOW)


def test_events_carry_our_reference_and_the_send_receipts_id(
    simulator: SendGridSimulator, receipt: SendReceipt
) -> None:
    (delivered,) = parse(simulator, "delivered")
    assert delivered.reference == "msg_42"
    assert delivered.provider_message_id == receipt.provider_message_id
    assert delivered.occurred_at == NOW


@pytest.mark.parametrize(
    ("kind", "fields", "status", "suppress"),
    [
        ("processed", {}, MessageStatus.SENT, False),
        ("deferred", {}, MessageStatus.SENT, False),
        ("delivered", {}, MessageStatus.DELIVERED, False),
        ("bounce", {}, MessageStatus.FAILED, True),
        ("bounce", {"type": "blocked", "status": "4.0.0"}, MessageStatus.FAILED, False),
        ("dropped", {}, MessageStatus.FAILED, True),
        ("dropped", {"reason": "Unsubscribed Address"}, MessageStatus.FAILED, True),
        ("dropped", {"reason": "Spam Content"}, MessageStatus.FAILED, False),
        ("spamreport", {}, MessageStatus.DELIVERED, True),
        ("unsubscribe", {}, MessageStatus.DELIVERED, True),
        ("group_unsubscribe", {}, MessageStatus.DELIVERED, True),
    ],
)
def test_each_event_maps_to_a_status_and_whether_to_suppress(
    simulator: SendGridSimulator,
    receipt: SendReceipt,
    kind: str,
    fields: dict[str, Any],
    status: MessageStatus,
    suppress: bool,
) -> None:
    (mapped,) = parse(simulator, kind, **fields)
    assert (mapped.status, mapped.suppress) == (status, suppress)


@pytest.mark.parametrize("kind", ["open", "click", "group_resubscribe"])
def test_engagement_events_change_nothing(
    simulator: SendGridSimulator, receipt: SendReceipt, kind: str
) -> None:
    assert parse(simulator, kind) == []


def test_one_delivery_holds_several_events_each_with_its_own_id(
    simulator: SendGridSimulator, receipt: SendReceipt
) -> None:
    receipts = parse(simulator, "processed", "open", "delivered")
    assert [r.status for r in receipts] == [MessageStatus.SENT, MessageStatus.DELIVERED]
    assert len({r.event_id for r in receipts}) == 2


@pytest.mark.parametrize("body", [b"not json\r\n", b'{"event": "delivered"}\r\n', b"[1, 2]\r\n"])
def test_a_signed_body_that_is_not_an_event_array_is_malformed(
    simulator: SendGridSimulator, body: bytes
) -> None:
    headers = simulator.sign(body, NOW)
    with pytest.raises(MalformedWebhook):
        SendGridWebhooks(simulator.public_key).parse(body, headers, NOW)


def test_an_event_without_sg_event_id_gets_a_stable_one(simulator: SendGridSimulator) -> None:
    body = b'[{"email":"sofie@example.dk","event":"dropped","reason":"Invalid","timestamp":1}]\r\n'
    webhooks = SendGridWebhooks(simulator.public_key)
    first = webhooks.parse(body, simulator.sign(body, NOW), NOW)
    again = webhooks.parse(body, simulator.sign(body, NOW), NOW)
    assert first[0].event_id == again[0].event_id
    assert first[0].event_id.startswith("sha256-")

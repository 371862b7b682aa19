"""MailgunWebhooks: the signature block against the known-answer vector, stale and replayed
deliveries refused, and each event mapped to a delivery receipt."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from justdriving.adapters.email.mailgun.events import MailgunWebhooks, MemoryTokenCache
from justdriving.adapters.email.mailgun.sender import MailgunEmailSender
from justdriving.adapters.memory import FrozenClock
from justdriving.domain.errors import ConfigurationError, InvalidSignature, MalformedWebhook
from justdriving.domain.messages import EmailMessage, MessageStatus, SendReceipt
from justdriving.domain.people import EmailAddress
from justdriving.testing.mailgun.simulator import MailgunSimulator

# Known-answer vector "mailgun-webhook" from shared/fixtures/signatures.json: computed with the
# scheme of Mailgun's "Securing Webhooks" docs; Python hmac and openssl dgst -hmac agree.
VECTOR_KEY = "key-test"
VECTOR_TIMESTAMP = "1700000000"
VECTOR_TOKEN = "a" * 50
VECTOR_SIGNATURE = "c831b43c5b16fe108131ca2a0ee82b53808fd53255a924f124c12c5aa8b5c2a3"
VECTOR_AT = datetime.fromtimestamp(int(VECTOR_TIMESTAMP), UTC)
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def a_delivery(signature: dict[str, str], **event: Any) -> bytes:
    data = {
        "id": "CPgfbmQMTCKtHW6uIWtuVe",
        "timestamp": 1700000000.123,
        "event": "delivered",
        "message": {"headers": {"message-id": "20250314093000.1.ABC@mg.koreskolen.dk"}},
        "user-variables": {"reference": "msg_42"},
        **event,
    }
    return json.dumps({"signature": signature, "event-data": data}).encode()


def vector_signature(**changes: str) -> dict[str, str]:
    block = {"timestamp": VECTOR_TIMESTAMP, "token": VECTOR_TOKEN, "signature": VECTOR_SIGNATURE}
    return {**block, **changes}


# The known answer ------------------------------------------------------------------------


def test_the_vector_verifies_and_its_event_parses() -> None:
    body = a_delivery(vector_signature())
    (receipt,) = MailgunWebhooks(VECTOR_KEY).parse(body, {}, VECTOR_AT)
    assert receipt.provider == "mailgun"
    assert receipt.event_id == "CPgfbmQMTCKtHW6uIWtuVe"
    assert receipt.provider_message_id == "20250314093000.1.ABC@mg.koreskolen.dk"
    assert receipt.reference == "msg_42"
    assert receipt.status is MessageStatus.DELIVERED
    assert receipt.occurred_at == datetime.fromtimestamp(1700000000.123, UTC)


@pytest.mark.parametrize(
    "signature",
    [
        vector_signature(
            signature="c831b43c5b16fe108131ca2a0ee82b53808fd53255a924f124c12c5aa8b5c2a4"
        ),
        vector_signature(signature=VECTOR_SIGNATURE.upper()),
        vector_signature(token="b" * 50),
        vector_signature(timestamp="1700000001"),
        vector_signature(signature=""),
        {"timestamp": VECTOR_TIMESTAMP, "token": VECTOR_TOKEN},
    ],
    ids=["one-digit-off", "upper-case", "other-token", "other-timestamp", "empty", "missing"],
)
def test_a_signature_that_does_not_match_is_refused(signature: dict[str, str]) -> None:
    with pytest.raises(InvalidSignature):
        MailgunWebhooks(VECTOR_KEY).parse(a_delivery(signature), {}, VECTOR_AT)


def test_a_replayed_token_is_refused() -> None:
    webhooks = MailgunWebhooks(VECTOR_KEY)
    body = a_delivery(vector_signature())
    assert webhooks.parse(body, {}, VECTOR_AT)
    with pytest.raises(InvalidSignature, match="replay"):
        webhooks.parse(body, {}, VECTOR_AT + timedelta(seconds=10))


def test_a_replay_with_another_event_is_refused_too() -> None:
    # The signature covers only timestamp and token: the token cache is what stops a captured
    # signature block from carrying a forged event.
    webhooks = MailgunWebhooks(VECTOR_KEY)
    webhooks.parse(a_delivery(vector_signature()), {}, VECTOR_AT)
    forged = a_delivery(vector_signature(), event="failed", severity="permanent", reason="bounce")
    with pytest.raises(InvalidSignature):
        webhooks.parse(forged, {}, VECTOR_AT)


def test_webhook_parsers_can_share_one_token_cache() -> None:
    cache = MemoryTokenCache()
    body = a_delivery(vector_signature())
    MailgunWebhooks(VECTOR_KEY, cache).parse(body, {}, VECTOR_AT)
    with pytest.raises(InvalidSignature):
        MailgunWebhooks(VECTOR_KEY, cache).parse(body, {}, VECTOR_AT)


def test_a_refused_delivery_does_not_use_up_its_token() -> None:
    webhooks = MailgunWebhooks(VECTOR_KEY)
    with pytest.raises(InvalidSignature):
        webhooks.parse(a_delivery(vector_signature(signature="0" * 64)), {}, VECTOR_AT)
    assert webhooks.parse(a_delivery(vector_signature()), {}, VECTOR_AT)


def test_the_token_cache_forgets_tokens_once_they_are_too_old_to_pass() -> None:
    cache = MemoryTokenCache()
    assert cache.first_use("t1", keep_until=NOW, now=NOW - timedelta(seconds=1))
    assert not cache.first_use("t1", keep_until=NOW, now=NOW)
    assert cache.first_use("t1", keep_until=NOW + timedelta(minutes=5), now=NOW + timedelta(1))


def test_the_token_cache_is_bounded() -> None:
    cache = MemoryTokenCache(limit=2)
    later = NOW + timedelta(hours=1)
    for token in ("t1", "t2", "t3"):
        assert cache.first_use(token, keep_until=later, now=NOW)
    assert cache.first_use("t1", keep_until=later, now=NOW)  # the oldest was forgotten
    assert not cache.first_use("t3", keep_until=later, now=NOW)


@pytest.mark.parametrize(
    "body",
    [b"signature=abc&token=x", b"[]", json.dumps({"signature": vector_signature()}).encode()],
    ids=["form", "array", "no-event-data"],
)
def test_a_body_that_is_not_a_json_event_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        MailgunWebhooks(VECTOR_KEY).parse(body, {}, VECTOR_AT)


def test_a_missing_signing_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="MAIL_WEBHOOK_SECRET"):
        MailgunWebhooks("")


# Through the simulator: a mail sent, then its events -------------------------------------


@pytest.fixture
def simulator() -> Iterator[MailgunSimulator]:
    with MailgunSimulator(clock=FrozenClock(NOW)) as running:
        yield running


@pytest.fixture
def receipt(simulator: MailgunSimulator) -> SendReceipt:
    sender = MailgunEmailSender(
        simulator.api_key,
        simulator.domain,
        api_base=simulator.api_base,
        from_address="noreply@koreskolen.dk",
    )
    message = EmailMessage(
        to=EmailAddress("sofie@example.dk"),
        subject="Faktura",
        text="Se vedhæftet.",
        reference="msg_42",
    )
    try:
        return sender.send(message)
    finally:
        sender.close()


def parse(simulator: MailgunSimulator, kind: str, **fields: Any) -> list[Any]:
    body, headers = simulator.events(simulator.mails[0], kind, **fields)
    return MailgunWebhooks(simulator.signing_key).parse(body, headers, NOW)


def test_events_carry_our_reference_and_the_send_receipts_id(
    simulator: MailgunSimulator, receipt: SendReceipt
) -> None:
    (delivered,) = parse(simulator, "delivered")
    assert delivered.reference == "msg_42"
    assert delivered.provider_message_id == receipt.provider_message_id


@pytest.mark.parametrize(
    ("kind", "fields", "status", "suppress"),
    [
        ("accepted", {}, MessageStatus.SENT, False),
        ("delivered", {}, MessageStatus.DELIVERED, False),
        ("failed", {}, MessageStatus.FAILED, True),
        ("failed", {"reason": "suppress-bounce"}, MessageStatus.FAILED, True),
        ("failed", {"reason": "suppress-unsubscribe"}, MessageStatus.FAILED, True),
        ("failed", {"reason": "old"}, MessageStatus.FAILED, False),
        ("failed", {"severity": "temporary", "reason": "generic"}, MessageStatus.SENT, False),
        ("rejected", {}, MessageStatus.FAILED, False),
        ("complained", {}, MessageStatus.DELIVERED, True),
        ("unsubscribed", {}, MessageStatus.DELIVERED, True),
    ],
)
def test_each_event_maps_to_a_status_and_whether_to_suppress(
    simulator: MailgunSimulator,
    receipt: SendReceipt,
    kind: str,
    fields: dict[str, Any],
    status: MessageStatus,
    suppress: bool,
) -> None:
    (mapped,) = parse(simulator, kind, **fields)
    assert (mapped.status, mapped.suppress) == (status, suppress)


@pytest.mark.parametrize("kind", ["opened", "clicked"])
def test_engagement_events_change_nothing(
    simulator: MailgunSimulator, receipt: SendReceipt, kind: str
) -> None:
    assert parse(simulator, kind) == []


def test_each_delivery_from_the_simulator_has_a_fresh_token(
    simulator: MailgunSimulator, receipt: SendReceipt
) -> None:
    webhooks = MailgunWebhooks(simulator.signing_key)
    for _ in range(3):
        body, headers = simulator.events(simulator.mails[0], "delivered")
        assert webhooks.parse(body, headers, NOW)
    with pytest.raises(InvalidSignature):
        webhooks.parse(body, headers, NOW)  # the last one, again

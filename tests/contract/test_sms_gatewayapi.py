"""GatewayAPI: the request it receives, JWT-signed webhooks (X-Gwapi-Signature, HS256), and
every failure of a send translated, through httpx against the local simulator."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

pytest.importorskip("httpx")

import httpx

from justdriving.adapters.sms.gatewayapi.sender import (
    DEFAULT_API_BASE,
    GatewayApiSmsSender,
    msisdn,
    valid_sender,
)
from justdriving.adapters.sms.gatewayapi.webhooks import GatewayApiWebhooks, decode_hs256
from justdriving.domain.delivery import Keyword
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedWebhook,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import MessageStatus, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.testing.gatewayapi.notifications import callback, jwt_hs256
from justdriving.testing.gatewayapi.simulator import GatewayApiSimulator

# Known answer: the token and secret of the JWT verification examples in GatewayAPI's REST API
# documentation (onlinecity/gatewayapi-docs, docs/rest.rst, "Webhooks" > "Authentication
# token"); GatewayAPI's examples decode it with jwt.decode(token, "secret", algorithms=["HS256"]).
DOCS_SECRET = "secret"
DOCS_TOKEN = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6MjM4MTcwMywibXNpc2RuIjo"
    "0NTQyNjA5MDQ1LCJ0aW1lIjoxNTIyNzY0MDYyLCJzdGF0dXMiOiJERUxJVkVSRUQiLCJlcnJ"
    "vciI6bnVsbCwiY29kZSI6bnVsbCwidXNlcnJlZiI6bnVsbCwiY2FsbGJhY2tfdXJsIjoiaHR"
    "0cDovL2JiYWY3MTQyLm5ncm9rLmlvIiwiYXBpIjo0fQ.KdfDH65bnQtgxEkFnpAQodOciAJ"
    "edZFB13r9wEo8t3Y"
)
DOCS_CLAIMS = {
    "id": 2381703,
    "msisdn": 4542609045,
    "time": 1522764062,
    "status": "DELIVERED",
    "error": None,
    "code": None,
    "userref": None,
    "callback_url": "http://bbaf7142.ngrok.io",
    "api": 4,
}

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SOFIE = PhoneNumber("+4520123456")


@pytest.fixture
def gatewayapi() -> Iterator[GatewayApiSimulator]:
    with GatewayApiSimulator(clock=lambda: NOW) as simulator:
        yield simulator


@pytest.fixture
def sender(gatewayapi: GatewayApiSimulator) -> Iterator[GatewayApiSmsSender]:
    sender = GatewayApiSmsSender(
        gatewayapi.token,
        sender="Koreskolen",
        api_base=gatewayapi.api_base,
        callback_url=gatewayapi.callback_url,
    )
    yield sender
    sender.close()


@pytest.fixture
def webhooks(gatewayapi: GatewayApiSimulator) -> GatewayApiWebhooks:
    return GatewayApiWebhooks(gatewayapi.webhook_secret)


def an_sms(reference: str = "msg_1", body: str = "Din køretime er i morgen kl. 10.") -> SmsMessage:
    return SmsMessage(body=body, reference=reference)


def signed(token: str) -> dict[str, str]:
    return {"X-Gwapi-Signature": token}


# Signatures -------------------------------------------------------------------------------


def test_the_documented_token_verifies_and_gives_its_claims() -> None:
    assert decode_hs256(DOCS_TOKEN, DOCS_SECRET.encode(), NOW) == DOCS_CLAIMS


def test_the_documented_token_parses_as_a_delivery_status() -> None:
    parsed = GatewayApiWebhooks(DOCS_SECRET).parse_status(b"", signed(DOCS_TOKEN), NOW)
    assert parsed.provider_message_id == "2381703"
    assert parsed.status is MessageStatus.DELIVERED
    assert parsed.occurred_at == datetime.fromtimestamp(1522764062, UTC)
    assert parsed.reference is None


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the documented secret is "secret"
def test_pyjwt_agrees_with_our_verification_and_our_signing() -> None:
    jwt = pytest.importorskip("jwt")  # PyJWT: installed with twilio, not needed by the adapter
    assert jwt.decode(DOCS_TOKEN, DOCS_SECRET, algorithms=["HS256"]) == DOCS_CLAIMS
    secret = "a-webhook-secret-of-thirty-two-bytes"
    ours = jwt_hs256({"id": 1, "status": "ENROUTE"}, secret)
    assert jwt.decode(ours, secret, algorithms=["HS256"]) == {"id": 1, "status": "ENROUTE"}


def test_the_documented_token_fails_with_another_secret() -> None:
    with pytest.raises(InvalidSignature):
        GatewayApiWebhooks("Secret").parse_status(b"", signed(DOCS_TOKEN), NOW)


def test_changed_claims_fail_verification() -> None:
    header, _, signature = DOCS_TOKEN.split(".")
    other = jwt_hs256({**DOCS_CLAIMS, "status": "REJECTED"}, DOCS_SECRET).split(".")[1]
    with pytest.raises(InvalidSignature):
        decode_hs256(f"{header}.{other}.{signature}", DOCS_SECRET.encode(), NOW)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "eyJhbGciOiJub25lIn0.eyJpZCI6MX0.",  # alg "none"
        jwt_hs256({"id": 1}, DOCS_SECRET).rsplit(".", 1)[0] + ".!!!",
    ],
)
def test_a_missing_malformed_or_unsigned_token_is_rejected(token: str) -> None:
    with pytest.raises(InvalidSignature):
        GatewayApiWebhooks(DOCS_SECRET).parse_status(b"", signed(token), NOW)


def test_a_token_signed_with_another_algorithm_is_rejected() -> None:
    _, claims, signature = jwt_hs256({"id": 1}, DOCS_SECRET).split(".")
    hs512 = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9"  # {"typ":"JWT","alg":"HS512"}
    with pytest.raises(InvalidSignature, match="HS256"):
        decode_hs256(f"{hs512}.{claims}.{signature}", DOCS_SECRET.encode(), NOW)


def test_an_expired_token_is_rejected_when_it_carries_exp() -> None:
    token = jwt_hs256({"id": 1, "status": "DELIVERED", "exp": int(NOW.timestamp()) - 3600}, "s")
    with pytest.raises(InvalidSignature, match="expired"):
        decode_hs256(token, b"s", NOW)


def test_the_header_is_found_whatever_its_case() -> None:
    parsed = GatewayApiWebhooks(DOCS_SECRET).parse_status(
        b"", {"x-gwapi-signature": DOCS_TOKEN}, NOW
    )
    assert parsed.provider_message_id == "2381703"


def test_webhooks_need_a_secret() -> None:
    with pytest.raises(ConfigurationError):
        GatewayApiWebhooks("")


# Delivery statuses ------------------------------------------------------------------------


def test_a_delivery_status_finds_our_message_by_userref(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, webhooks: GatewayApiWebhooks
) -> None:
    receipt = sender.send(SOFIE, an_sms("msg_42"))
    delivery = gatewayapi.deliver(int(receipt.provider_message_id))
    parsed = webhooks.parse_status(delivery.body, delivery.headers, NOW)
    assert parsed.provider == "gatewayapi"
    assert parsed.provider_message_id == receipt.provider_message_id
    assert parsed.reference == "msg_42"
    assert parsed.status is MessageStatus.DELIVERED
    assert parsed.event_id == f"{receipt.provider_message_id}:4520123456:DELIVERED"
    assert delivery.url == gatewayapi.callback_url


@pytest.mark.off_spec("SOMETHING_NEW: a state GatewayAPI may add, not yet in its documentation")
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("BUFFERED", MessageStatus.SENT),
        ("ENROUTE", MessageStatus.SENT),
        ("SCHEDULED", MessageStatus.SENT),
        ("DELIVERED", MessageStatus.DELIVERED),
        ("ACCEPTED", MessageStatus.DELIVERED),
        ("UNDELIVERABLE", MessageStatus.FAILED),
        ("EXPIRED", MessageStatus.FAILED),
        ("REJECTED", MessageStatus.FAILED),
        ("DELETED", MessageStatus.FAILED),
        ("SKIPPED", MessageStatus.FAILED),
        ("SOMETHING_NEW", MessageStatus.SENT),
    ],
)
def test_gatewayapi_states_map_onto_ours(
    gatewayapi: GatewayApiSimulator,
    sender: GatewayApiSmsSender,
    webhooks: GatewayApiWebhooks,
    state: str,
    status: MessageStatus,
) -> None:
    message_id = int(sender.send(SOFIE, an_sms()).provider_message_id)
    delivery = gatewayapi.deliver(message_id, state)
    assert webhooks.parse_status(delivery.body, delivery.headers, NOW).status is status


def test_a_failure_carries_gatewayapis_error_code(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, webhooks: GatewayApiWebhooks
) -> None:
    message_id = int(sender.send(SOFIE, an_sms()).provider_message_id)
    delivery = gatewayapi.deliver(message_id, "UNDELIVERABLE", code="0x1010", error="Unknown")
    parsed = webhooks.parse_status(delivery.body, delivery.headers, NOW)
    assert (parsed.status, parsed.error_code) == (MessageStatus.FAILED, "0x1010")


def test_the_body_is_not_trusted_only_the_signed_claims(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, webhooks: GatewayApiWebhooks
) -> None:
    message_id = int(sender.send(SOFIE, an_sms()).provider_message_id)
    delivery = gatewayapi.deliver(message_id, "REJECTED")
    forged_body = json.dumps({**delivery.payload(), "status": "DELIVERED"}).encode()
    parsed = webhooks.parse_status(forged_body, delivery.headers, NOW)
    assert parsed.status is MessageStatus.FAILED


def test_a_status_without_an_id_is_malformed(webhooks: GatewayApiWebhooks) -> None:
    request = callback("https://x", {"status": "DELIVERED"}, "gatewayapi_webhook_secret")
    with pytest.raises(MalformedWebhook):
        webhooks.parse_status(request.body, request.headers, NOW)


# Incoming messages ------------------------------------------------------------------------


def test_an_mo_sms_parses_into_an_inbound_sms(
    gatewayapi: GatewayApiSimulator, webhooks: GatewayApiWebhooks
) -> None:
    request = gatewayapi.reply(4520123456, "Tak, vi ses!")
    inbound = webhooks.parse_inbound(request.body, request.headers, NOW)
    assert (inbound.sender, inbound.to, inbound.body) == (SOFIE, "451204", "Tak, vi ses!")
    assert inbound.event_id == f"mo:{request.payload()['id']}"
    assert inbound.received_at == NOW


def test_the_leased_keyword_is_cut_off_so_that_stop_is_recognised(
    gatewayapi: GatewayApiSimulator,
) -> None:
    request = gatewayapi.reply(4520123456, "koreskole STOP")
    webhooks = GatewayApiWebhooks(gatewayapi.webhook_secret, keyword="KORESKOLE")
    assert webhooks.parse_inbound(request.body, request.headers, NOW).keyword is Keyword.STOP


# Sending ----------------------------------------------------------------------------------


def test_a_send_posts_one_message_with_our_reference_and_the_number_as_an_integer(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    receipt = sender.send(SOFIE, an_sms("msg_7"))
    [request] = gatewayapi.requests
    assert (request.method, request.path, request.status) == ("POST", "/rest/mtsms", 200)
    assert request.body == {
        "message": an_sms().body,
        "sender": "Koreskolen",
        "recipients": [{"msisdn": 4520123456}],
        "userref": "msg_7",
        "callback_url": gatewayapi.callback_url,
    }
    assert receipt.provider_message_id == str(next(iter(gatewayapi.messages)))


def test_a_body_outside_gsm7_is_sent_as_ucs2(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    sender.send(SOFIE, an_sms(body="Vi ses 😀"))
    sender.send(SOFIE, an_sms(body="Pris: 500 kr {inkl. moms} €"))
    assert gatewayapi.requests[0].body["encoding"] == "UCS2"
    assert "encoding" not in gatewayapi.requests[1].body


def test_a_valid_school_sender_id_replaces_the_default(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    sender.send(SOFIE, SmsMessage(body="Hej", reference="m1", sender_id="Nord Kor"))
    sender.send(SOFIE, SmsMessage(body="Hej", reference="m2", sender_id="Far too long a name"))
    assert [r.body["sender"] for r in gatewayapi.requests] == ["Nord Kor", "Koreskolen"]


def test_the_token_is_sent_with_gatewayapis_token_scheme() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ids": [1]})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    GatewayApiSmsSender("tok", sender="Koreskolen", http=http).send(SOFIE, an_sms())
    assert str(seen[0].url) == f"{DEFAULT_API_BASE}/rest/mtsms"
    assert seen[0].headers["Authorization"] == "Token tok"


@pytest.mark.parametrize(
    ("token", "sender", "missing"),
    [
        ("", "Koreskolen", "API token"),
        ("tok", "", "SMS_FROM_NUMBER"),
        ("tok", "Køreskolen", "at most 11"),
        ("tok", "KoreskolenNord", "at most 11"),
    ],
)
def test_a_sender_without_valid_settings_names_what_is_wrong(
    token: str, sender: str, missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        GatewayApiSmsSender(token, sender=sender)


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("Koreskolen", True),
        ("Test Sender", True),
        ("4512345678", True),
        ("451234567890123", True),
        ("4512345678901234", False),
        ("", False),
        ("Kø", False),
    ],
)
def test_gatewayapis_sender_rule(sender: str, valid: bool) -> None:
    assert valid_sender(sender) is valid


def test_an_msisdn_is_the_e164_digits() -> None:
    assert msisdn(SOFIE) == 4520123456


# Failures ---------------------------------------------------------------------------------


def test_a_blacklisted_number_is_a_suppressed_recipient(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    gatewayapi.blacklist(4520123456)
    with pytest.raises(RecipientSuppressed) as raised:
        sender.send(SOFIE, an_sms())
    assert raised.value.provider_code == "0x0215"
    assert "4520123456" not in str(raised.value)


def test_an_invalid_number_is_rejected_for_good(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    gatewayapi.invalid.add(4520000001)
    with pytest.raises(ProviderRejected) as raised:
        sender.send(PhoneNumber("+4520000001"), an_sms())
    assert not raised.value.retryable
    assert not isinstance(raised.value, RecipientSuppressed)


def test_a_rate_limit_is_retryable_after_its_delay_and_was_not_processed(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender
) -> None:
    gatewayapi.fail_next(429, retry_after=4)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert (raised.value.retry_after, raised.value.possibly_done) == (4.0, False)
    assert gatewayapi.messages == {}


@pytest.mark.parametrize("code", ["0x0216", "0x0214"])
def test_insufficient_credit_or_a_temporary_blacklist_is_retried_later(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, code: str
) -> None:
    gatewayapi.fail_next(400, code=code)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert (raised.value.provider_code, raised.value.possibly_done) == (code, False)


@pytest.mark.parametrize(("status", "code"), [(401, None), (403, "0x0213"), (400, "0x0211")])
def test_a_refused_token_or_ip_address_is_a_configuration_error(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, status: int, code: str | None
) -> None:
    gatewayapi.fail_next(status, code=code)
    with pytest.raises(ConfigurationError, match="SMS_PROVIDER_SECRET"):
        sender.send(SOFIE, an_sms())


def test_a_wrong_token_is_a_configuration_error(gatewayapi: GatewayApiSimulator) -> None:
    sender = GatewayApiSmsSender("wrong", sender="Koreskolen", api_base=gatewayapi.api_base)
    with pytest.raises(ConfigurationError):
        sender.send(SOFIE, an_sms())


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_may_have_sent_the_message(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, status: int
) -> None:
    gatewayapi.fail_next(status)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert raised.value.possibly_done


def test_a_lost_response_may_have_sent_the_message_and_it_did(
    gatewayapi: GatewayApiSimulator, sender: GatewayApiSmsSender, webhooks: GatewayApiWebhooks
) -> None:
    gatewayapi.lose_next_response()
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms("msg_lost"))
    assert raised.value.possibly_done
    [message_id] = gatewayapi.messages
    delivery = gatewayapi.deliver(message_id)
    assert webhooks.parse_status(delivery.body, delivery.headers, NOW).reference == "msg_lost"


def test_a_timeout_may_have_sent_the_message() -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    http = httpx.Client(transport=httpx.MockTransport(stall))
    with pytest.raises(ProviderUnavailable, match="timed out") as raised:
        GatewayApiSmsSender("tok", sender="Koreskolen", http=http).send(SOFIE, an_sms())
    assert raised.value.possibly_done


def test_a_refused_connection_sent_nothing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = GatewayApiSmsSender("tok", sender="Koreskolen", api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert not raised.value.possibly_done


def test_a_200_without_ids_may_have_sent_the_message() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="ok")))
    with pytest.raises(ProviderUnavailable) as raised:
        GatewayApiSmsSender("tok", sender="Koreskolen", http=http).send(SOFIE, an_sms())
    assert raised.value.possibly_done

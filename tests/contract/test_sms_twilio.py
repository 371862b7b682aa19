"""Twilio: request signatures against the public URL, callbacks and replies, and every failure of
a send translated, through the real twilio-python SDK against the local simulator."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

pytest.importorskip("twilio")

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.request_validator import RequestValidator

from justdriving.adapters.sms.twilio.errors import translate
from justdriving.adapters.sms.twilio.sender import TwilioSmsSender, with_reference
from justdriving.adapters.sms.twilio.webhooks import TwilioWebhooks
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
from justdriving.testing.twilio.messages import signature
from justdriving.testing.twilio.simulator import TwilioSimulator

# Known-answer vector "twilio-request-validation" from ../shared/fixtures/signatures.json, taken
# from twilio/twilio-python tests/unit/test_request_validator.py (MIT) and checked there with
# twilio 9.13.0's RequestValidator and with hmac/hashlib.
VECTOR_TOKEN = "12345"
VECTOR_BASE = "https://mycompany.com"
VECTOR_PATH = "/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SOFIE = PhoneNumber("+4520123456")
STATUS_PATH = "/webhooks/twilio/status"


@pytest.fixture
def twilio() -> Iterator[TwilioSimulator]:
    with TwilioSimulator(clock=lambda: NOW) as simulator:
        yield simulator


def a_sender(twilio: TwilioSimulator, **options: object) -> TwilioSmsSender:
    settings: dict[str, object] = {
        "from_number": twilio.from_number,
        "status_callback": twilio.public_base_url + STATUS_PATH,
        "api_base": twilio.api_base,
        **options,
    }
    return TwilioSmsSender(twilio.account_sid, twilio.auth_token, **settings)


@pytest.fixture
def sender(twilio: TwilioSimulator) -> TwilioSmsSender:
    return a_sender(twilio)


@pytest.fixture
def webhooks(twilio: TwilioSimulator) -> TwilioWebhooks:
    return TwilioWebhooks(twilio.auth_token, twilio.public_base_url)


def an_sms(reference: str = "msg_1", body: str = "Din køretime er i morgen kl. 10.") -> SmsMessage:
    return SmsMessage(body=body, reference=reference)


def vector_headers(value: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {"X-Twilio-Signature": value}


# Signatures -------------------------------------------------------------------------------


def test_the_known_answer_vector_verifies() -> None:
    TwilioWebhooks(VECTOR_TOKEN, VECTOR_BASE).verify(VECTOR_PATH, VECTOR_PARAMS, vector_headers())


def test_the_simulator_signs_the_known_answer_vector_as_twilio_does() -> None:
    url = VECTOR_BASE + VECTOR_PATH
    assert signature(VECTOR_TOKEN, url, VECTOR_PARAMS) == VECTOR_SIGNATURE
    assert RequestValidator(VECTOR_TOKEN).compute_signature(url, VECTOR_PARAMS) == VECTOR_SIGNATURE


@pytest.mark.parametrize(
    ("token", "base", "path", "params"),
    [
        pytest.param(
            VECTOR_TOKEN, VECTOR_BASE, VECTOR_PATH, {**VECTOR_PARAMS, "Digits": "1235"}, id="param"
        ),
        pytest.param(
            VECTOR_TOKEN,
            VECTOR_BASE,
            VECTOR_PATH,
            {**VECTOR_PARAMS, "Extra": "1"},
            id="added-param",
        ),
        pytest.param(
            VECTOR_TOKEN, VECTOR_BASE, "/myapp.php?foo=1&bar=3", VECTOR_PARAMS, id="query"
        ),
        pytest.param(VECTOR_TOKEN, VECTOR_BASE, "/other.php?foo=1&bar=2", VECTOR_PARAMS, id="path"),
        pytest.param(VECTOR_TOKEN, "http://mycompany.com", VECTOR_PATH, VECTOR_PARAMS, id="scheme"),
        pytest.param(VECTOR_TOKEN, "https://internal:8000", VECTOR_PATH, VECTOR_PARAMS, id="host"),
        pytest.param("54321", VECTOR_BASE, VECTOR_PATH, VECTOR_PARAMS, id="token"),
    ],
)
def test_a_changed_param_url_or_token_fails_verification(
    token: str, base: str, path: str, params: dict[str, str]
) -> None:
    with pytest.raises(InvalidSignature):
        TwilioWebhooks(token, base).verify(path, params, vector_headers())


def test_the_signature_header_is_found_whatever_its_case() -> None:
    webhooks = TwilioWebhooks(VECTOR_TOKEN, VECTOR_BASE)
    webhooks.verify(VECTOR_PATH, VECTOR_PARAMS, {"x-twilio-signature": VECTOR_SIGNATURE})


def test_a_trailing_slash_on_the_public_base_url_changes_nothing() -> None:
    TwilioWebhooks(VECTOR_TOKEN, VECTOR_BASE + "/").verify(
        VECTOR_PATH, VECTOR_PARAMS, vector_headers()
    )


def test_webhooks_need_a_token_and_a_public_base_url() -> None:
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL"):
        TwilioWebhooks(VECTOR_TOKEN, "")
    with pytest.raises(ConfigurationError, match="auth token"):
        TwilioWebhooks("", VECTOR_BASE)


# Status callbacks -------------------------------------------------------------------------


def test_a_status_callback_finds_our_message_by_its_reference(
    twilio: TwilioSimulator, sender: TwilioSmsSender, webhooks: TwilioWebhooks
) -> None:
    receipt = sender.send(SOFIE, an_sms("msg_42"))
    callback = twilio.deliver(receipt.provider_message_id)
    parsed = webhooks.parse_status(callback.path, callback.form, callback.headers, NOW)
    assert parsed.provider == "twilio"
    assert parsed.provider_message_id == receipt.provider_message_id
    assert parsed.reference == "msg_42"
    assert parsed.status is MessageStatus.DELIVERED
    assert parsed.event_id == f"{receipt.provider_message_id}:delivered"
    assert parsed.occurred_at == NOW
    assert not parsed.suppress


@pytest.mark.parametrize(
    ("twilio_status", "status"),
    [
        ("queued", MessageStatus.SENT),
        ("accepted", MessageStatus.SENT),
        ("sending", MessageStatus.SENT),
        ("sent", MessageStatus.SENT),
        ("delivered", MessageStatus.DELIVERED),
        ("undelivered", MessageStatus.FAILED),
        ("failed", MessageStatus.FAILED),
        ("some_future_status", MessageStatus.SENT),
    ],
)
def test_twilio_statuses_map_onto_ours(
    twilio: TwilioSimulator,
    sender: TwilioSmsSender,
    webhooks: TwilioWebhooks,
    twilio_status: str,
    status: MessageStatus,
) -> None:
    receipt = sender.send(SOFIE, an_sms())
    callback = twilio.deliver(receipt.provider_message_id, twilio_status)
    assert (
        webhooks.parse_status(callback.path, callback.form, callback.headers, NOW).status is status
    )


@pytest.mark.parametrize(("code", "suppress"), [("21610", True), ("30004", True), ("30003", False)])
def test_a_failure_meaning_opted_out_or_blocked_asks_to_suppress(
    twilio: TwilioSimulator,
    sender: TwilioSmsSender,
    webhooks: TwilioWebhooks,
    code: str,
    suppress: bool,
) -> None:
    receipt = sender.send(SOFIE, an_sms())
    callback = twilio.deliver(receipt.provider_message_id, "undelivered", code)
    parsed = webhooks.parse_status(callback.path, callback.form, callback.headers, NOW)
    assert (parsed.status, parsed.error_code, parsed.suppress) == (
        MessageStatus.FAILED,
        code,
        suppress,
    )


def test_the_same_status_twice_has_the_same_event_id_and_a_new_status_a_new_one(
    twilio: TwilioSimulator, sender: TwilioSmsSender, webhooks: TwilioWebhooks
) -> None:
    sid = sender.send(SOFIE, an_sms()).provider_message_id
    ids = [
        webhooks.parse_status(c.path, c.form, c.headers, NOW).event_id
        for c in (twilio.deliver(sid, "sent"), twilio.deliver(sid, "sent"), twilio.deliver(sid))
    ]
    assert ids[0] == ids[1] != ids[2]


def test_a_callback_signed_for_another_url_is_rejected(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    callback = twilio.deliver(sender.send(SOFIE, an_sms()).provider_message_id)
    # The app behind a proxy sees http://internal:8000; the signature covers the public URL.
    behind_proxy = TwilioWebhooks(twilio.auth_token, "http://internal:8000")
    with pytest.raises(InvalidSignature):
        behind_proxy.parse_status(callback.path, callback.form, callback.headers, NOW)


def test_a_forged_status_is_rejected(
    twilio: TwilioSimulator, sender: TwilioSmsSender, webhooks: TwilioWebhooks
) -> None:
    callback = twilio.deliver(sender.send(SOFIE, an_sms()).provider_message_id, "failed")
    forged = {**callback.form, "MessageStatus": "delivered", "SmsStatus": "delivered"}
    with pytest.raises(InvalidSignature):
        webhooks.parse_status(callback.path, forged, callback.headers, NOW)


def test_a_status_without_a_message_sid_is_malformed(
    twilio: TwilioSimulator, webhooks: TwilioWebhooks
) -> None:
    form = {"MessageStatus": "delivered"}
    callback = twilio.callback(twilio.public_base_url + STATUS_PATH, form)
    with pytest.raises(MalformedWebhook):
        webhooks.parse_status(callback.path, callback.form, callback.headers, NOW)


def test_a_callback_without_our_reference_still_parses(
    twilio: TwilioSimulator, webhooks: TwilioWebhooks
) -> None:
    form = {"MessageSid": "SM1", "MessageStatus": "sent"}
    callback = twilio.callback(twilio.public_base_url + STATUS_PATH, form)
    assert (
        webhooks.parse_status(callback.path, callback.form, callback.headers, NOW).reference is None
    )


# Incoming messages ------------------------------------------------------------------------


def test_a_reply_parses_into_an_inbound_sms(
    twilio: TwilioSimulator, webhooks: TwilioWebhooks
) -> None:
    callback = twilio.reply(SOFIE.e164, "Tak, vi ses!")
    inbound = webhooks.parse_inbound(callback.path, callback.form, callback.headers, NOW)
    assert (inbound.sender, inbound.to, inbound.body) == (SOFIE, twilio.from_number, "Tak, vi ses!")
    assert inbound.event_id == callback.form["MessageSid"]
    assert inbound.keyword is Keyword.NONE


def test_stop_opts_out_at_twilio_and_start_opts_back_in(
    twilio: TwilioSimulator, sender: TwilioSmsSender, webhooks: TwilioWebhooks
) -> None:
    stop = twilio.reply(SOFIE.e164, " Stop ")
    assert webhooks.parse_inbound(stop.path, stop.form, stop.headers, NOW).keyword is Keyword.STOP
    with pytest.raises(RecipientSuppressed):
        sender.send(SOFIE, an_sms())
    start = twilio.reply(SOFIE.e164, "START")
    assert (
        webhooks.parse_inbound(start.path, start.form, start.headers, NOW).keyword is Keyword.START
    )
    assert sender.send(SOFIE, an_sms()).provider_message_id


def test_an_inbound_message_from_a_short_code_is_malformed_for_us(
    twilio: TwilioSimulator, webhooks: TwilioWebhooks
) -> None:
    callback = twilio.reply("12345", "Hello")
    with pytest.raises(MalformedWebhook):
        webhooks.parse_inbound(callback.path, callback.form, callback.headers, NOW)


def test_an_inbound_message_signed_with_another_token_is_rejected(
    twilio: TwilioSimulator, webhooks: TwilioWebhooks
) -> None:
    form = twilio.reply(SOFIE.e164, "Hi").form
    callback = twilio.callback(twilio.public_base_url + twilio.inbound_path, form, "other_token")
    with pytest.raises(InvalidSignature):
        webhooks.parse_inbound(callback.path, callback.form, callback.headers, NOW)


# Sending ----------------------------------------------------------------------------------


def test_a_send_creates_one_message_with_the_status_callback_and_our_reference(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    receipt = sender.send(SOFIE, an_sms("msg_7"))
    [request] = twilio.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
    assert request.form["To"] == SOFIE.e164
    assert request.form["From"] == twilio.from_number
    assert request.form["StatusCallback"] == f"{twilio.public_base_url}{STATUS_PATH}?ref=msg_7"
    assert twilio.messages[receipt.provider_message_id]["body"] == an_sms().body
    assert receipt.provider_message_id.startswith("SM")


def test_the_reference_is_added_to_a_callback_url_that_has_a_query() -> None:
    url = with_reference("https://app.example/hooks/twilio?school=nord&ref=old", "msg 1&2")
    assert url == "https://app.example/hooks/twilio?school=nord&ref=msg+1%262"


def test_without_a_status_callback_none_is_sent(twilio: TwilioSimulator) -> None:
    a_sender(twilio, status_callback=None).send(SOFIE, an_sms())
    assert "StatusCallback" not in twilio.requests[0].form


def test_a_school_sender_id_is_used_as_from(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    sender.send(SOFIE, SmsMessage(body="Hej", reference="msg_1", sender_id="Koreskolen"))
    assert twilio.requests[0].form["From"] == "Koreskolen"


def test_a_messaging_service_may_choose_the_sender(twilio: TwilioSimulator) -> None:
    service = "MG" + "1" * 32
    sender = a_sender(twilio, from_number=None, messaging_service_sid=service)
    receipt = sender.send(SOFIE, an_sms())
    assert twilio.requests[0].form["MessagingServiceSid"] == service
    assert "From" not in twilio.requests[0].form
    assert twilio.messages[receipt.provider_message_id]["status"] == "accepted"


@pytest.mark.parametrize(
    ("sid", "token", "sender", "missing"),
    [
        ("", "token", "+15005550006", "account SID"),
        ("AC1", "", "+15005550006", "auth token"),
        ("AC1", "token", None, "SMS_FROM_NUMBER"),
    ],
)
def test_a_sender_without_its_settings_names_what_is_missing(
    sid: str, token: str, sender: str | None, missing: str
) -> None:
    with pytest.raises(ConfigurationError, match=missing):
        TwilioSmsSender(sid, token, from_number=sender)


# Failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "code"),
    [("+15005550001", "21211"), ("+15005550009", "21614"), ("+15005550002", "21612")],
)
def test_an_invalid_or_unreachable_number_is_rejected_for_good(
    sender: TwilioSmsSender, number: str, code: str
) -> None:
    with pytest.raises(ProviderRejected) as raised:
        sender.send(PhoneNumber(number), an_sms())
    assert raised.value.provider_code == code
    assert not raised.value.retryable
    assert not isinstance(raised.value, RecipientSuppressed)
    assert number not in str(raised.value)  # our wording, not Twilio's (it quotes the number)


def test_a_number_marked_invalid_or_landline_in_the_simulator_is_rejected(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    twilio.invalid.add("+4520000001")
    twilio.landlines.add("+4533000000")
    with pytest.raises(ProviderRejected, match="not a valid phone number"):
        sender.send(PhoneNumber("+4520000001"), an_sms())
    with pytest.raises(ProviderRejected, match="not a mobile"):
        sender.send(PhoneNumber("+4533000000"), an_sms())


def test_twilios_blocked_magic_number_is_a_suppressed_recipient(sender: TwilioSmsSender) -> None:
    with pytest.raises(RecipientSuppressed) as raised:
        sender.send(PhoneNumber("+15005550004"), an_sms())
    assert raised.value.provider_code == "21610"


def test_a_body_over_1600_characters_is_rejected(sender: TwilioSmsSender) -> None:
    with pytest.raises(ProviderRejected) as raised:
        sender.send(SOFIE, an_sms(body="x" * 1601))
    assert raised.value.provider_code == "21617"


def test_a_rate_limit_is_retryable_after_its_delay_and_was_not_processed(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    twilio.fail_next(429, retry_after=7)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert (raised.value.retry_after, raised.value.possibly_done) == (7.0, False)
    assert raised.value.provider_code == "20429"
    assert twilio.messages == {}
    assert sender.send(SOFIE, an_sms()).provider_message_id  # the next call does not reuse it


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_may_have_sent_the_message(
    twilio: TwilioSimulator, sender: TwilioSmsSender, status: int
) -> None:
    twilio.fail_next(status)
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert raised.value.possibly_done
    assert raised.value.retry_after is None


def test_a_lost_response_may_have_sent_the_message_and_it_did(
    twilio: TwilioSimulator, sender: TwilioSmsSender
) -> None:
    twilio.lose_next_response()
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms("msg_lost"))
    assert raised.value.possibly_done
    [message] = twilio.messages.values()
    # Its receipt will still find our message: the StatusCallback carries the reference.
    callback = twilio.deliver(message["sid"])
    assert (
        TwilioWebhooks(twilio.auth_token, twilio.public_base_url)
        .parse_status(callback.path, callback.form, callback.headers, NOW)
        .reference
        == "msg_lost"
    )


def test_a_timeout_may_have_sent_the_message(twilio: TwilioSimulator) -> None:
    twilio.stall_next(1.0)
    with pytest.raises(ProviderUnavailable, match="timed out") as raised:
        a_sender(twilio, timeout=0.2).send(SOFIE, an_sms())
    assert raised.value.possibly_done


def test_a_refused_connection_sent_nothing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = TwilioSmsSender(
        "AC1", "token", from_number="+15005550006", api_base=f"http://127.0.0.1:{port}"
    )
    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(SOFIE, an_sms())
    assert not raised.value.possibly_done


def test_wrong_credentials_are_a_configuration_error(twilio: TwilioSimulator) -> None:
    sender = TwilioSmsSender(
        twilio.account_sid, "wrong", from_number=twilio.from_number, api_base=twilio.api_base
    )
    with pytest.raises(ConfigurationError, match="SMS_PROVIDER_SECRET"):
        sender.send(SOFIE, an_sms())


def test_a_sender_twilio_refuses_is_a_configuration_error(twilio: TwilioSimulator) -> None:
    with pytest.raises(ConfigurationError, match="SMS_FROM_NUMBER"):
        a_sender(twilio, from_number="+15005550001").send(SOFIE, an_sms())


@pytest.mark.parametrize(
    ("error", "kind", "possibly_done"),
    [
        (TwilioRestException(400, "/Messages.json", "x", 21610, "POST"), RecipientSuppressed, None),
        (TwilioRestException(401, "/Messages.json", "x", 20003, "POST"), ConfigurationError, None),
        (TwilioRestException(400, "/Messages.json", "x", 21211, "POST"), ProviderRejected, None),
        (
            TwilioRestException(429, "/Messages.json", "x", 20429, "POST"),
            ProviderUnavailable,
            False,
        ),
        (TwilioRestException(503, "/Messages.json", "x", 20503, "POST"), ProviderUnavailable, True),
        (TwilioServiceException("about:blank", "Bad", 400, 21614), ProviderRejected, None),
        (TwilioException("the library failed"), ProviderUnavailable, True),
    ],
)
def test_translation_of_sdk_errors(
    error: TwilioException, kind: type[Exception], possibly_done: bool | None
) -> None:
    translated = translate(error, "twilio", retry_after=3.0)
    assert type(translated) is kind
    if possibly_done is not None:
        assert isinstance(translated, ProviderUnavailable)
        assert translated.possibly_done is possibly_done


# Boundaries -------------------------------------------------------------------------------


def test_the_sms_package_and_the_gatewayapi_adapter_do_not_load_twilio() -> None:
    code = (
        "import sys, justdriving.adapters.sms, justdriving.adapters.sms.gatewayapi.sender, "
        "justdriving.adapters.sms.gatewayapi.webhooks\n"
        "print(any(m == 'twilio' or m.startswith('twilio.') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"

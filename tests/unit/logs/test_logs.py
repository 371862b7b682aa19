"""justdriving.logs: the redaction processor and the logging setup."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import phonenumbers
import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from justdriving.config import LogFormat, LogLevel, Settings
from justdriving.logs import (
    REDACTED,
    Redactor,
    bind_ids,
    bind_request,
    configure_logging,
    is_secret_field,
    mask_email,
    mask_phone,
    redact,
    secret_values,
)
from leaks import encodings, leaks

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# Ordinary text: lower-case words and punctuation, no digits (numbers may be phone numbers).
ordinary = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå .,:;!?()'\"", max_size=60)
# Ordinary text not ending in an auth scheme: what follows "bearer " is redacted as its credential.
plain_before = ordinary.filter(lambda s: not re.search(r"(?i)\b(bearer|basic|token)\s*$", s))
token = st.text(alphabet=ALNUM, min_size=8, max_size=40)
stripe_keys = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["sk_live_", "sk_test_", "rk_live_", "pk_test_", "whsec_"]),
    token,
)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=2, max_size=20).filter(
        lambda s: s[0].isalnum()
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=15).filter(
        lambda s: s[0].isalnum()
    ),
    st.sampled_from(["dk", "com", "org", "email"]),
)
danish = st.from_regex(r"[2-9][0-9]{7}", fullmatch=True)
spaced_danish = danish.map(lambda d: " ".join(d[i : i + 2] for i in range(0, 8, 2)))
e164 = st.one_of(
    danish.map(lambda d: "+45" + d),
    st.from_regex(r"\+4[67][0-9]{8,9}", fullmatch=True),
    st.from_regex(r"\+1[2-9][0-9]{9}", fullmatch=True),
)
bearer = token.filter(lambda t: not t.islower()).map(lambda t: f"Bearer {t}")


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        digits = body + check
        total = 0
        for index, char in enumerate(reversed(digits)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


cards = st.from_regex(r"[3-6][0-9]{14}", fullmatch=True).map(_luhn_complete)
spaced_cards = cards.map(lambda c: " ".join(c[i : i + 4] for i in range(0, 16, 4)))


@given(ordinary)
def test_ordinary_text_is_left_unchanged(text: str) -> None:
    assert Redactor(["a-registered-secret"]).text(text) == text


@pytest.mark.parametrize(
    "text", ["a basic lesson.", "the token ab, here", "invoice no. 12", "order 1234567"]
)
def test_ordinary_sentences_are_left_unchanged(text: str) -> None:
    assert Redactor().text(text) == text


@given(ordinary, st.one_of(stripe_keys, bearer, cards, spaced_cards), ordinary)
def test_keys_tokens_and_card_numbers_never_survive(before: str, secret: str, after: str) -> None:
    cleaned = Redactor().text(f"{before} {secret} {after}")

    assert secret.split()[-1] not in cleaned
    assert secret.replace(" ", "") not in cleaned.replace(" ", "")


@given(ordinary, st.text(alphabet=ALNUM + "_-/+=", min_size=6, max_size=40), ordinary)
def test_registered_secret_values_never_survive_wherever_they_stand(
    before: str, secret: str, after: str
) -> None:
    cleaned = Redactor([secret]).text(f"{before}{secret}{after}")

    assert secret not in cleaned


@given(plain_before, st.one_of(e164, danish, spaced_danish), ordinary)
def test_phone_numbers_are_masked_to_country_and_last_two_digits(
    before: str, number: str, after: str
) -> None:
    cleaned = Redactor().text(f"{before} {number} {after}")

    assert number not in cleaned
    assert number.lstrip("+")[-8:] not in cleaned
    assert f"******{number[-2:]}" in cleaned


@given(plain_before, emails, ordinary)
def test_email_addresses_are_masked(before: str, email: str, after: str) -> None:
    cleaned = Redactor().text(f"{before} {email} {after}")

    assert email not in cleaned
    assert mask_email(email) in cleaned


def test_masks_look_like_the_domain_masks() -> None:
    assert mask_phone("+4520123478") == "+45******78"
    assert mask_phone("20 12 34 78") == "+45******78"
    assert mask_phone("+12025550123") == "+1********23"
    assert mask_email("jane@example.com") == "j***@example.com"


def test_values_under_secret_names_are_dropped_recursively() -> None:
    event = {
        "event": "called the provider",
        "api_key": "k",
        "headers": {"Authorization": "x", "Stripe-Signature": "t=1,v1=abc", "Accept": "json"},
        "payload": [{"card_number": "4242"}, ("cvc", {"password": "p"})],
        "webhookSecret": "w",
        "amount": 500,
        "unset_token": None,
    }

    cleaned = Redactor()(None, "info", event)

    assert cleaned == {
        "event": "called the provider",
        "api_key": REDACTED,
        "headers": {"Authorization": REDACTED, "Stripe-Signature": REDACTED, "Accept": "json"},
        "payload": [{"card_number": REDACTED}, ["cvc", {"password": REDACTED}]],
        "webhookSecret": REDACTED,
        "amount": 500,
        "unset_token": None,
    }


@pytest.mark.parametrize(
    "name",
    ["api_key", "X-Stripe-Signature", "authorization", "Cookie", "pan", "card", "cvc", "apiKey"],
)
def test_secret_field_names(name: str) -> None:
    assert is_secret_field(name)


@pytest.mark.parametrize("name", ["event", "school_id", "company", "monkey_count", "timestamp"])
def test_ordinary_field_names(name: str) -> None:
    assert not is_secret_field(name)


def test_other_objects_are_shown_as_redacted_text() -> None:
    error = RuntimeError("provider said: jane@example.com sk_live_abcdefgh12345678")

    cleaned = Redactor()(None, "error", {"event": "failed", "error": error})

    assert cleaned["error"] == f"provider said: j***@example.com {REDACTED}"


def test_secret_values_come_from_every_secret_setting_and_url_password() -> None:
    settings = Settings(
        payment_provider_secret="sk_test_abc",
        mail_password="hunter22",
        ops_token="ops-token-value",
        database_url="postgresql://app:db-password@db/app",
        mail_host="smtp.example.com",
    )

    assert set(secret_values(settings)) == {
        "sk_test_abc",
        "hunter22",
        "ops-token-value",
        "db-password",
    }


def test_short_secrets_are_not_registered() -> None:
    assert Redactor(["abc"]).text("abc abcdef") == "abc abcdef"


# --------------------------------------------------------------------------------------------
# setup


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_from_stdlib_and_structlog_are_redacted_and_carry_the_bound_ids() -> None:
    stream = io.StringIO()
    settings = Settings(
        log_format=LogFormat.JSON, log_level=LogLevel.DEBUG, mail_api_key="key-1234567890"
    )
    configure_logging(settings, stream=stream)
    configure_logging(settings, stream=stream)  # idempotent: one handler, one line per event

    bind_request("req-1")
    with bind_ids(school_id="school-1", outbox_message_id=None):
        logging.getLogger("justdriving.test").debug("sent to %s with key-1234567890", "+4520123456")
        structlog.get_logger("justdriving.test").info("posted", authorization="Bearer abc.DEF1")
    logging.getLogger("justdriving.test").info("after the block")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        f"sent to +45******56 with {REDACTED}",
        "posted",
        "after the block",
    ]
    assert lines[0]["school_id"] == "school-1"
    assert "outbox_message_id" not in lines[0]
    assert lines[1]["authorization"] == REDACTED
    assert lines[2]["request_id"] == "req-1"
    assert "school_id" not in lines[2]
    assert {line["level"] for line in lines} == {"debug", "info"}
    assert all(line["timestamp"].endswith("Z") for line in lines)


@pytest.mark.usefixtures("restore_logging")
def test_console_format_is_one_readable_line_and_the_level_filters() -> None:
    stream = io.StringIO()
    configure_logging(
        Settings(log_format=LogFormat.CONSOLE, log_level=LogLevel.WARNING), stream=stream
    )

    logging.getLogger("justdriving.test").info("not shown")
    logging.getLogger("justdriving.test").warning("mail to %s", "jane@example.com")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "mail to j***@example.com" in lines[0]
    assert "warning" in lines[0]
    assert not lines[0].lstrip().startswith("{")


@pytest.mark.usefixtures("restore_logging")
def test_exceptions_are_rendered_redacted() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format=LogFormat.JSON), stream=stream)

    try:
        raise RuntimeError("provider body: {'to': '+4520123456', 'key': 'sk_live_abcdefgh1234'}")
    except RuntimeError:
        logging.getLogger("justdriving.test").exception("failed")

    text = stream.getvalue()
    assert "RuntimeError" in text
    assert "+4520123456" not in text
    assert "sk_live_abcdefgh1234" not in text


# --------------------------------------------------------------------------------------------
# personal data in other encodings (issue 17): URL-encoded, form-encoded, double-encoded,
# a bare MSISDN


def _possible(number: str) -> bool:
    return bool(phonenumbers.is_possible_number(phonenumbers.parse(number)))


# Numbers of a length their country has: without its "+", an impossible one is just digits.
possible_e164 = e164.filter(_possible)


@given(ordinary, st.one_of(possible_e164, emails), ordinary)
def test_phone_numbers_and_emails_are_masked_in_every_encoding(
    before: str, value: str, after: str
) -> None:
    redactor = Redactor()
    for form in encodings(value):
        cleaned = redactor.text(f"{before} x={form}&y=1 {after}")

        assert not leaks(cleaned, [value]), (form, cleaned)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("to=elev00%40example.com", "to=e***@example.com"),
        ("elev00%2540example.com", "e***@example.com"),
        ("msisdn=%2B4520123456&x=1", "msisdn=+45******56&x=1"),
        ("%2B45+20+12+34+56", "+45******56"),
        ("recipients: [{'msisdn': 4520123456}]", "recipients: [{'msisdn': +45******56}]"),
        ("SQL parameters: ('%2B4520123456', 'elev00%40example.com')", "SQL parameters: "),
    ],
)
def test_url_encoded_and_bare_msisdn_examples(text: str, masked: str) -> None:
    cleaned = Redactor().text(text)

    assert cleaned.startswith(masked)
    assert not leaks(cleaned, ["+4520123456", "elev00@example.com"])


@pytest.mark.parametrize(
    "text",
    [
        "took 1796600000 s",  # a Unix time is not a valid number anywhere
        "pay_01HXYZ4520123456",  # part of an id
        "amount 100000000000 øre",
        "a%20b%2Fc",  # an encoded path with nothing personal in it
    ],
)
def test_ids_times_and_plain_encoded_text_are_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


def test_redact_uses_the_secrets_of_the_configured_settings() -> None:
    configure_logging(Settings(ops_token="ops-token-for-redact-test"), stream=io.StringIO())

    shown = redact("token ops-token-for-redact-test, to elev00%40example.com, 4520123456")

    assert "ops-token-for-redact-test" not in shown
    assert not leaks(shown, ["elev00@example.com", "+4520123456"])

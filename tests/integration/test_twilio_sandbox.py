"""TwilioSmsSender against Twilio itself, with its test credentials; skipped without them.

    TWILIO_TEST_ACCOUNT_SID=AC… TWILIO_TEST_AUTH_TOKEN=… pytest -m sandbox tests/integration

Test credentials send nothing and charge nothing; Twilio answers the magic numbers of its docs
("Test Credentials": From +15005550006 is valid, To +15005550001 is invalid, +15005550004 has
blocked you, +15005550009 cannot receive SMS). They trigger no status callbacks, so callbacks
are covered offline by the simulator.
"""

from __future__ import annotations

import os

import pytest

from justdriving.domain.errors import (
    ConfigurationError,
    ProviderRejected,
    RecipientSuppressed,
)
from justdriving.domain.ids import new_id
from justdriving.domain.messages import SmsMessage
from justdriving.domain.people import PhoneNumber

pytest.importorskip("twilio")

from justdriving.adapters.sms.twilio.sender import TwilioSmsSender

ACCOUNT_SID = os.environ.get("TWILIO_TEST_ACCOUNT_SID", "")
AUTH_TOKEN = os.environ.get("TWILIO_TEST_AUTH_TOKEN", "")
MAGIC_FROM = "+15005550006"
A_VALID_NUMBER = PhoneNumber("+14108675310")

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(
        not (ACCOUNT_SID and AUTH_TOKEN),
        reason="TWILIO_TEST_ACCOUNT_SID and TWILIO_TEST_AUTH_TOKEN are not set",
    ),
]


def a_sender(token: str = AUTH_TOKEN, from_number: str = MAGIC_FROM) -> TwilioSmsSender:
    if not ACCOUNT_SID.startswith("AC"):
        pytest.fail("TWILIO_TEST_ACCOUNT_SID must be an account SID (AC…)")
    return TwilioSmsSender(
        ACCOUNT_SID,
        token,
        from_number=from_number,
        status_callback="https://example.com/webhooks/twilio/status",
    )


def an_sms() -> SmsMessage:
    return SmsMessage(body="justdriving sandbox test", reference=new_id("msg"))


def test_a_message_to_a_valid_number_is_accepted() -> None:
    receipt = a_sender().send(A_VALID_NUMBER, an_sms())
    assert receipt.provider == "twilio"
    assert receipt.provider_message_id.startswith("SM")


def test_an_invalid_number_is_rejected() -> None:
    with pytest.raises(ProviderRejected) as raised:
        a_sender().send(PhoneNumber("+15005550001"), an_sms())
    assert raised.value.provider_code == "21211"


def test_a_number_that_blocked_us_is_suppressed() -> None:
    with pytest.raises(RecipientSuppressed) as raised:
        a_sender().send(PhoneNumber("+15005550004"), an_sms())
    assert raised.value.provider_code == "21610"


def test_a_number_that_cannot_receive_sms_is_rejected() -> None:
    with pytest.raises(ProviderRejected) as raised:
        a_sender().send(PhoneNumber("+15005550009"), an_sms())
    assert raised.value.provider_code == "21614"


def test_an_invalid_sender_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SMS_FROM_NUMBER"):
        a_sender(from_number="+15005550001").send(A_VALID_NUMBER, an_sms())


def test_a_wrong_auth_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="SMS_PROVIDER_SECRET"):
        a_sender(token="0" * 32).send(A_VALID_NUMBER, an_sms())

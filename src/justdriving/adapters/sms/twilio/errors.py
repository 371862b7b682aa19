"""Twilio failures translated into justdriving errors, in our own words.

Twilio's messages quote the recipient's number, and the relay stores error texts, so the wording
here is ours and only Twilio's numeric code travels (as `provider_code`).

Creating a message has no idempotency key: a 429 was not processed and is safe to retry; a 5xx,
a timeout or a connection lost after the request went out may already have sent it.
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from urllib3.exceptions import NewConnectionError

from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    ProviderUnavailable,
    RecipientSuppressed,
)

OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient": the number sent STOP
BAD_CREDENTIALS = 20003
CREDENTIAL_SETTINGS = ("SMS_PROVIDER_KEY", "SMS_PROVIDER_SECRET")
# The sender is ours to fix, not the recipient's: invalid, not owned, missing, not SMS-capable.
SENDER_CODES = frozenset({21212, 21603, 21606, 21660})
WORDING = {
    21211: "the number is not a valid phone number",
    21408: "sending to this region is not enabled on the Twilio account",
    21612: "Twilio cannot route a message to this number",
    21614: "the number cannot receive SMS (not a mobile number)",
    21617: "the body is longer than Twilio accepts",
    30004: "the message was blocked",
}


def translate(
    error: TwilioException, provider: str, retry_after: float | None = None
) -> JustDrivingError:
    """The justdriving error for an error the SDK raised about one request."""
    if not isinstance(error, TwilioRestException | TwilioServiceException):
        # Raised by the SDK itself, before or after the call: we cannot tell whether it went.
        return ProviderUnavailable(provider, "the Twilio library failed", possibly_done=True)
    status, code = int(error.status), _code(error.code)
    provider_code = str(code) if code is not None else str(status)
    if code == OPTED_OUT:
        return RecipientSuppressed(
            provider, "the recipient has opted out (STOP)", provider_code=provider_code
        )
    if status == 401 or code == BAD_CREDENTIALS:
        return ConfigurationError("Twilio refused the credentials", CREDENTIAL_SETTINGS)
    if code in SENDER_CODES:
        return ConfigurationError(
            f"Twilio refused the sender (error {code})",
            ("SMS_FROM_NUMBER or the school's SMS sender id",),
        )
    wording = WORDING.get(code or 0, "")
    return _rules(provider).status_error(
        status, Reason(provider_code, wording), "sending", write=True, retry_after=retry_after
    )


def translate_transport(error: requests.RequestException, provider: str) -> ProviderUnavailable:
    """No answer from Twilio. Only a connection that was never opened is certainly not sent."""
    cause = type(error).__name__
    if _never_connected(error):
        return _rules(provider).not_sent("sending", cause)
    timed_out = isinstance(error, requests.Timeout)
    return _rules(provider).no_answer("sending", cause, timed_out=timed_out, write=True)


def _rules(provider: str) -> ProviderHttp:
    return ProviderHttp(provider, "Twilio", settings=CREDENTIAL_SETTINGS)


def _never_connected(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError) or not error.args:
        return False
    return isinstance(getattr(error.args[0], "reason", None), NewConnectionError)


def _code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None

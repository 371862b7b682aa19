"""The simulated Twilio account's data: Message resources, error bodies, callback forms.

Shapes follow Twilio's Messages API (2010-04-01) and its webhook requests; the magic numbers are
those Twilio documents for its test credentials, so the simulator refuses what Twilio would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from justdriving.domain.segments import segments

API_VERSION = "2010-04-01"
TEST_FROM = "+15005550006"  # Twilio's magic "valid sender" for test credentials
MAX_BODY = 1600
# Magic recipients (test credentials): the error Twilio answers with.
MAGIC_TO = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
MAGIC_FROM = {"+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611}
MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number {to} is not a valid phone number.",
    21212: "The 'From' number {from_} is not a valid phone number or alphanumeric sender ID.",
    21408: "Permission to send an SMS has not been enabled for the region of {to}.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable number.",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21612: "The 'To' phone number: {to}, is not currently reachable via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


class TwilioApiError(Exception):
    """An error answer: HTTP status and Twilio's numeric code."""

    def __init__(self, status: int, code: int, **values: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code
        self.message = MESSAGES.get(code, "Error").format_map({"to": "", "from_": "", **values})

    def body(self) -> bytes:
        return json.dumps(
            {
                "code": self.code,
                "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status,
            }
        ).encode()


def default_code(status: int) -> int:
    return {401: 20003, 404: 20404, 429: 20429}.get(status, 20500 if status >= 500 else 21211)


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def is_e164(number: str) -> bool:
    return bool(_E164.match(number))


def is_alphanumeric_sender(sender: str) -> bool:
    return bool(_ALPHANUMERIC_SENDER.match(sender))


def message_resource(
    account_sid: str, sid: str, form: Mapping[str, str], status: str, now: datetime
) -> dict[str, Any]:
    """A Message resource as `POST .../Messages.json` returns it (201)."""
    body = form.get("Body", "")
    date = format_datetime(now)
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": body,
        "date_created": date,
        "date_sent": None,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From") or None,
        "messaging_service_sid": form.get("MessagingServiceSid") or None,
        "num_media": "0",
        "num_segments": str(max(segments(body).parts, 1)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": form.get("To"),
        "uri": uri,
    }


def status_form(
    account_sid: str, message: Mapping[str, Any], error_code: str | None
) -> dict[str, str]:
    """The parameters of a status callback, as Twilio POSTs them."""
    form = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "From": str(message["from"] or ""),
        "MessageSid": str(message["sid"]),
        "MessageStatus": str(message["status"]),
        "SmsSid": str(message["sid"]),
        "SmsStatus": str(message["status"]),
        "To": str(message["to"]),
    }
    if message.get("messaging_service_sid"):
        form["MessagingServiceSid"] = str(message["messaging_service_sid"])
    if error_code:
        form["ErrorCode"] = error_code
    return form


def inbound_form(
    account_sid: str, sid: str, sender: str, to: str, body: str, opt_out: str | None
) -> dict[str, str]:
    """The parameters of an incoming-message webhook."""
    form = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "Body": body,
        "From": sender,
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": str(max(segments(body).parts, 1)),
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": to,
    }
    if opt_out:  # Advanced Opt-Out names the keyword it acted on
        form["OptOutType"] = opt_out
    return form


def signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and each parameter name+value, sorted."""
    signed = url + "".join(name + form[name] for name in sorted(form))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()

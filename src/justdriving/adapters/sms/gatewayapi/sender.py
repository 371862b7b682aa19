"""GatewayAPI behind the SmsSender port: its REST API (`POST /rest/mtsms`) over httpx.

Imported only by the container: importing it loads httpx.

Authentication is GatewayAPI's `Authorization: Token <API token>`. A recipient is an MSISDN
(the E.164 digits without '+') sent as an integer. `userref` carries our message id and comes
back in every delivery status, so a status finds our message even when the answer to the send
was lost. GatewayAPI's own default is GSM-7 (characters outside it are replaced), so a body
that needs UCS-2 says so. Accounts on the EU platform use `api_base=EU_API_BASE`.
"""

from __future__ import annotations

from typing import Any

import httpx

from justdriving.adapters.provider_http import ProviderHttp, Reason
from justdriving.adapters.retry_after import retry_after_seconds
from justdriving.domain.errors import (
    ConfigurationError,
    JustDrivingError,
    ProviderUnavailable,
    RecipientSuppressed,
)
from justdriving.domain.messages import SendReceipt, SmsMessage
from justdriving.domain.people import PhoneNumber
from justdriving.domain.segments import SmsEncoding, encoding_of

DEFAULT_API_BASE = "https://gatewayapi.com"
EU_API_BASE = "https://gatewayapi.eu"
SEND_PATH = "/rest/mtsms"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
TOKEN_SETTING = "SMS_PROVIDER_SECRET (GatewayAPI API token)"  # noqa: S105 - a setting name
# API error codes (GatewayAPI docs, "Error code index" > "API Errors").
BLACKLISTED = "0X0215"  # "MSISDN %1 blacklisted"
TEMPORARILY_BLACKLISTED = "0X0214"
INSUFFICIENT_CREDIT = "0X0216"
CREDENTIAL_CODES = frozenset({"0X0210", "0X0211", "0X0212", "0X0213", "0X0223", "0X0224"})


class GatewayApiSmsSender:
    """Sends one SMS per call; GatewayAPI has no idempotency key, so retries are the relay's."""

    def __init__(
        self,
        token: str,
        *,
        sender: str,
        api_base: str = DEFAULT_API_BASE,
        callback_url: str | None = None,
        name: str = "gatewayapi",
        http: httpx.Client | None = None,
    ) -> None:
        problems = [] if token else [TOKEN_SETTING]
        if not sender:
            problems.append("SMS_FROM_NUMBER (the sender shown to the recipient)")
        elif not valid_sender(sender.removeprefix("+")):
            problems.append("SMS_FROM_NUMBER: at most 11 letters and digits, or 15 digits")
        if problems:
            raise ConfigurationError(f"{name} is not configured", problems)
        self.name = name
        self._token, self._sender = token, sender.removeprefix("+")
        self._url = api_base.rstrip("/") + SEND_PATH
        self._callback_url = callback_url
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._errors = ProviderHttp(
            name,
            "GatewayAPI",
            settings=[TOKEN_SETTING],
            reason=_reason,
            address_settings=["SMS_API_BASE_URL"],
        )

    def __repr__(self) -> str:
        return f"GatewayApiSmsSender({self._url!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def send(self, to: PhoneNumber, message: SmsMessage) -> SendReceipt:
        headers = {"Authorization": f"Token {self._token}", "Accept": "application/json"}
        response = self._errors.send(
            self._http,
            "POST",
            self._url,
            what="sending the SMS",
            write=True,
            json=self._payload(to, message),
            headers=headers,
        )
        if response.status_code != 200:
            raise self._refusal(response)
        return SendReceipt(self.name, self._message_id(response))

    def _payload(self, to: PhoneNumber, message: SmsMessage) -> dict[str, Any]:
        sender = (message.sender_id or "").removeprefix("+")
        payload: dict[str, Any] = {
            "message": message.body,
            "sender": sender if valid_sender(sender) else self._sender,
            "recipients": [{"msisdn": msisdn(to)}],
            "userref": message.reference,
        }
        if encoding_of(message.body) is SmsEncoding.UCS2:
            payload["encoding"] = "UCS2"
        if self._callback_url:
            payload["callback_url"] = self._callback_url
        return payload

    def _message_id(self, response: httpx.Response) -> str:
        try:
            ids = response.json().get("ids")
        except (ValueError, AttributeError):
            ids = None
        if not isinstance(ids, list) or not ids or not isinstance(ids[0], int | str):
            raise ProviderUnavailable(
                self.name,
                "GatewayAPI's answer had no message id; it may have been sent",
                possibly_done=True,
            )
        return str(ids[0])

    def _refusal(self, response: httpx.Response) -> JustDrivingError:
        status, reason = response.status_code, self._errors.reason(response)
        known = reason.code.upper()
        if known == BLACKLISTED:
            return RecipientSuppressed(
                self.name, "the recipient is blacklisted at GatewayAPI", provider_code=reason.code
            )
        if known in CREDENTIAL_CODES:  # a bad token, or a request from an IP not allowed
            return self._errors.refused_credentials(status, reason)
        if known in (TEMPORARILY_BLACKLISTED, INSUFFICIENT_CREDIT):  # refused before sending
            return self._errors.not_done(
                f"GatewayAPI cannot send now ({reason.code})",
                reason,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return self._errors.error_for(response, "sending the SMS", write=True)


def msisdn(number: PhoneNumber) -> int:
    """GatewayAPI's recipient: the full number as an integer, country code first, no '+'."""
    return int(number.e164.removeprefix("+"))


def valid_sender(sender: str) -> bool:
    """Up to 11 letters, digits and spaces, or up to 15 digits (GatewayAPI's `sender` rule)."""
    if not sender.strip() or not sender.isascii():
        return False
    if sender.isdigit():
        return len(sender) <= 15
    return len(sender) <= 11 and all(char.isalnum() or char == " " for char in sender)


def _reason(response: httpx.Response) -> Reason:
    """GatewayAPI's error code (e.g. "0x0213"), else the status; its message may quote the
    request, so only the code is kept."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        code = None
    return Reason(str(code)) if code else Reason.of_status(response)

"""GatewayAPI's delivery statuses and incoming (MO) messages, verified, as domain values.

GatewayAPI signs a webhook with the secret set on the webhook in its dashboard: the header
`X-Gwapi-Signature` is a JWT (HS256) whose claims are the whole notification. The claims are
what we read; the body is not trusted (it is not what was signed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    InvalidSignature,
    MalformedWebhook,
)
from justdriving.domain.messages import MessageStatus
from justdriving.domain.people import PhoneNumber

SIGNATURE_HEADER = "X-Gwapi-Signature"
LEEWAY = timedelta(seconds=60)  # for `exp`/`nbf`, when GatewayAPI sets them
# GatewayAPI's states (REST API docs, "States and status codes"). Transient ones mean it has
# the message; ACCEPTED means the network accepted it on the handset's behalf (final).
STATUSES = {
    "UNKNOWN": MessageStatus.SENT,
    "SCHEDULED": MessageStatus.SENT,
    "BUFFERED": MessageStatus.SENT,
    "ENROUTE": MessageStatus.SENT,
    "DELIVERED": MessageStatus.DELIVERED,
    "ACCEPTED": MessageStatus.DELIVERED,
    "EXPIRED": MessageStatus.FAILED,
    "DELETED": MessageStatus.FAILED,
    "UNDELIVERABLE": MessageStatus.FAILED,
    "REJECTED": MessageStatus.FAILED,
    "SKIPPED": MessageStatus.FAILED,
}


class GatewayApiWebhooks:
    """Parses what GatewayAPI POSTs to us; raises InvalidSignature or MalformedWebhook.

    `keyword` is the keyword leased on a shared short code: an MO message starts with it
    ("KØRESKOLE stop"), and it is cut off so that STOP is recognised.
    """

    def __init__(
        self, webhook_secret: str, *, name: str = "gatewayapi", keyword: str | None = None
    ) -> None:
        if not webhook_secret:
            raise ConfigurationError(
                f"{name} webhooks are not configured", ["the GatewayAPI webhook secret"]
            )
        self.name = name
        self._secret = webhook_secret.encode()
        self._keyword = keyword.strip().upper() if keyword else None

    def parse_status(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> DeliveryReceipt:
        """A delivery status notification (DSN) for a message we sent with `userref`."""
        claims = self.verify(headers, now)
        message_id, status = _text(claims, "id"), _text(claims, "status").upper()
        error_code = claims.get("code") or claims.get("error") or None
        return DeliveryReceipt(
            provider=self.name,
            event_id=f"{message_id}:{claims.get('msisdn', '')}:{status}",
            provider_message_id=message_id,
            status=STATUSES.get(status, MessageStatus.SENT),
            occurred_at=_time(claims.get("time"), now),
            error_code=str(error_code) if error_code is not None else None,
            reference=str(claims["userref"]) if claims.get("userref") else None,
        )

    def parse_inbound(self, body: bytes, headers: Mapping[str, str], now: datetime) -> InboundSms:
        """An MO SMS sent to our short code or keyword."""
        claims = self.verify(headers, now)
        try:
            sender = PhoneNumber("+" + _text(claims, "msisdn"))
        except InvalidPhoneNumber as error:
            raise MalformedWebhook("the sender is not a phone number") from error
        return InboundSms(
            provider=self.name,
            event_id="mo:" + _text(claims, "id"),
            sender=sender,
            to=str(claims.get("receiver", "")),
            body=self._without_keyword(str(claims.get("message", ""))),
            received_at=_time(claims.get("senttime"), now),
        )

    def verify(self, headers: Mapping[str, str], now: datetime) -> dict[str, Any]:
        """The claims of a valid `X-Gwapi-Signature` JWT."""
        token = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower()), "")
        if not token:
            raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
        return decode_hs256(token.strip(), self._secret, now)

    def _without_keyword(self, message: str) -> str:
        if not self._keyword:
            return message
        word, _, rest = message.strip().partition(" ")
        return rest if word.upper() == self._keyword else message


def decode_hs256(token: str, secret: bytes, now: datetime) -> dict[str, Any]:
    """The claims of an HS256 JWT signed with `secret`; only HS256 is accepted (never `none`)."""
    try:
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(_unbase64(header_part))
        claims = json.loads(_unbase64(claims_part))
        signature = _unbase64(signature_part)
    except (ValueError, binascii.Error) as error:
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not a JWT") from error
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not signed with HS256")
    expected = hmac.new(secret, f"{header_part}.{claims_part}".encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.digest(), signature):
        raise InvalidSignature(f"{SIGNATURE_HEADER} does not match the webhook secret")
    if not isinstance(claims, dict):
        raise MalformedWebhook("the JWT claims are not an object")
    _check_lifetime(claims, now)
    return claims


def _check_lifetime(claims: Mapping[str, Any], now: datetime) -> None:
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if isinstance(expires, int | float) and _time(expires, now) < now - LEEWAY:
        raise InvalidSignature("the webhook's JWT has expired")
    if isinstance(not_before, int | float) and _time(not_before, now) > now + LEEWAY:
        raise InvalidSignature("the webhook's JWT is not valid yet")


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None or value == "" or isinstance(value, bool | dict | list):
        raise MalformedWebhook(f"the GatewayAPI notification has no {name}")
    return str(value)


def _time(value: Any, default: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return default

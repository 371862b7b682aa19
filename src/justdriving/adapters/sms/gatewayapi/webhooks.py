"""GatewayAPI's delivery statuses and incoming (MO) messages, verified, as domain values.

GatewayAPI signs a webhook with the secret set on the webhook in its dashboard: the header
`X-Gwapi-Signature` is a JWT (HS256) whose claims are the whole notification. The claims are
what we read; the body is not trusted (it is not what was signed). PyJWT verifies the token
(HS256 only) before any claim is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from justdriving.domain.delivery import DeliveryReceipt, InboundSms
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidPhoneNumber,
    InvalidSignature,
    MalformedWebhook,
    UnusableWebhook,
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
        return self.status_from(self.verify(headers, now), now)

    def status_from(self, claims: Mapping[str, Any], now: datetime) -> DeliveryReceipt:
        """The receipt in verified claims."""
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
        return self.inbound_from(self.verify(headers, now), now)

    def inbound_from(self, claims: Mapping[str, Any], now: datetime) -> InboundSms:
        """The message in verified claims."""
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
        """The claims of a valid `X-Gwapi-Signature` JWT, checked by PyJWT before anything in
        it is read: HS256 only, `id` required, `exp`/`nbf`/`iat` (when set) within LEEWAY."""
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
    """The claims of an HS256 JWT signed with `secret` (PyJWT: the algorithm pinned, so never
    `none` nor a public-key confusion); InvalidSignature for anything else.

    PyJWT checks the signature over the encoded segments before it decodes the claims, and
    reads the lifetime against its own clock: `now` is checked here against `exp`, `nbf`
    and `iat` as well, so a test clock holds too."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={
                "require": ["id"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.MissingRequiredClaimError as error:  # the signature held
        raise UnusableWebhook(f"the GatewayAPI notification has no {error.claim}") from None
    except jwt.InvalidTokenError as error:
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not a valid HS256 JWT: {error}") from None
    except RecursionError:
        raise InvalidSignature(f"{SIGNATURE_HEADER} is not a JWT") from None
    _check_lifetime(claims, now)
    return claims


def _check_lifetime(claims: Mapping[str, Any], now: datetime) -> None:
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidSignature(f"the webhook's JWT has a {name} that is not a time")
    expires, not_before, issued = (claims.get(name) for name in ("exp", "nbf", "iat"))
    if expires is not None and _time(expires, now) < now - LEEWAY:
        raise InvalidSignature("the webhook's JWT has expired")
    if not_before is not None and _time(not_before, now) > now + LEEWAY:
        raise InvalidSignature("the webhook's JWT is not valid yet")
    if issued is not None and _time(issued, now) > now + LEEWAY:
        raise InvalidSignature("the webhook's JWT was issued in the future")


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

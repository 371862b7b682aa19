"""Mailgun's webhooks: the signature block checked, replays refused, events mapped to receipts.

Mailgun posts JSON `{"signature": {"timestamp", "token", "signature"}, "event-data": {…}}`;
the signature is hex HMAC-SHA256 of timestamp + token with the webhook signing key, compared
in constant time. It covers the timestamp and token only, not the event, so two more checks
stand in for a body signature: a timestamp more than `tolerance` from now (either way) is
refused, and so is a token seen before (`TokenCache`).

The container gives `adapters.webhooks.replay.StoredTokenCache`: spent tokens are kept in the
database (with the event id they first carried) until their timestamp is too old to pass
anyway, so every web process refuses a token any other one has seen. `MemoryTokenCache`
remembers tokens in this process only (tests, a single process). What the token can also be
bound to is checked: an event timed later than its signature is refused. The remaining risk
(a genuine signature block read in transit and paired with another event before the genuine
delivery lands, within the tolerance) is described in the README.

Receipts: event id `event-data.id`, our reference from `user-variables.reference`, the message
id from `message.headers.message-id`. Statuses through `EVENTS`; `parse` drops engagement and
unknown events, the webhook receiver keeps them as unknown events with their raw item.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from justdriving.adapters.email.mailgun.sender import REFERENCE_VARIABLE
from justdriving.adapters.email.mime import bare_id
from justdriving.adapters.webhooks.bounds import MAX_DIGITS, MAX_ID_LENGTH, load_json
from justdriving.domain.delivery import DeliveryReceipt
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedWebhook,
    UnusableWebhook,
)
from justdriving.domain.messages import MessageStatus

DEFAULT_TOLERANCE = timedelta(seconds=300)
MAX_TOKEN_LENGTH = 128  # Mailgun's tokens are 50 characters

# Mailgun event -> (status, the recipient must not be written to again). None: ignored.
EVENTS: dict[str, tuple[MessageStatus, bool] | None] = {
    "accepted": (MessageStatus.SENT, False),
    "delivered": (MessageStatus.DELIVERED, False),
    "failed": (MessageStatus.FAILED, False),  # see _failed: severity and reason decide
    "rejected": (MessageStatus.FAILED, False),
    "complained": (MessageStatus.DELIVERED, True),
    "unsubscribed": (MessageStatus.DELIVERED, True),
    "opened": None,
    "clicked": None,
    "stored": None,
}
# Permanent failures that mean the address bounced hard, or was already suppressed.
SUPPRESSING_REASONS = frozenset(
    {"bounce", "suppress-bounce", "suppress-complaint", "suppress-unsubscribe"}
)


class TokenCache(Protocol):
    def first_use(
        self, token: str, keep_until: datetime, now: datetime, event_id: str = ""
    ) -> bool:
        """True the first time `token` is offered (remembering it, and the event it carried,
        until `keep_until`)."""
        ...


class MemoryTokenCache:
    """Tokens seen by this process; at most `limit` (the oldest are forgotten first)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._tokens: dict[str, datetime] = {}  # insertion order is expiry order, near enough
        self._limit = limit
        self._lock = threading.Lock()

    def first_use(
        self, token: str, keep_until: datetime, now: datetime, event_id: str = ""
    ) -> bool:
        with self._lock:
            self._forget_expired(now)
            if token in self._tokens:
                return False
            self._tokens[token] = keep_until
            while len(self._tokens) > self._limit:
                del self._tokens[next(iter(self._tokens))]
            return True

    def _forget_expired(self, now: datetime) -> None:
        expired = [token for token, until in self._tokens.items() if until < now]
        for token in expired:
            del self._tokens[token]


class MailgunWebhooks:
    """Verifies one Mailgun webhook delivery and turns its event into a receipt."""

    def __init__(
        self,
        signing_key: str,
        token_cache: TokenCache | None = None,
        *,
        name: str = "mailgun",
        tolerance: timedelta = DEFAULT_TOLERANCE,
    ) -> None:
        if not signing_key:
            raise ConfigurationError("Mailgun webhooks are not configured", ["MAIL_WEBHOOK_SECRET"])
        self.name = name
        self._key, self._tolerance = signing_key.encode(), tolerance
        self._tokens = token_cache if token_cache is not None else MemoryTokenCache()

    def parse(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[DeliveryReceipt]:
        """The receipt for the event, if it matters; InvalidSignature / MalformedWebhook."""
        event = self.verified_event(body, now)
        receipt = receipt_of(event, self.name)
        return [] if receipt is None else [receipt]

    def verified_event(self, body: bytes, now: datetime) -> dict[str, Any]:
        """The event-data of a delivery whose signature block holds (MalformedWebhook when the
        body is not a JSON object with one; UnusableWebhook when it is signed but has no
        event-data object)."""
        payload = _json_object(body)
        event = payload.get("event-data")
        self.verify(payload.get("signature"), now, event if isinstance(event, dict) else None)
        if not isinstance(event, dict):
            raise UnusableWebhook("no event-data object")
        return event

    def verify(self, block: Any, now: datetime, event: Mapping[str, Any] | None = None) -> None:
        """The signature over timestamp + token, the replay window, the event's own time (it
        cannot be later than the signature: what the token can be bound to), then the token's
        first use, remembered with the event's id."""
        if not isinstance(block, dict):
            raise InvalidSignature("no signature block")
        timestamp, token, signature = (
            str(block.get(key, "")) for key in ("timestamp", "token", "signature")
        )
        if not (token and len(token) <= MAX_TOKEN_LENGTH and token.isascii()):
            raise InvalidSignature("the signature block has no usable token")
        if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
            raise InvalidSignature("the signature block is incomplete")
        expected = hmac.new(self._key, f"{timestamp}{token}".encode(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest().encode(), signature.encode()):
            raise InvalidSignature("the signature does not match")
        if len(timestamp) > MAX_DIGITS:
            raise InvalidSignature("the signature's timestamp is outside the tolerance")
        signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        if abs(now - signed_at) > self._tolerance:
            raise InvalidSignature("the signature's timestamp is outside the tolerance")
        event_id = ""
        if event is not None:
            occurred = event.get("timestamp")
            latest = signed_at.timestamp() + self._tolerance.total_seconds()
            if isinstance(occurred, int | float) and occurred is not True and occurred > latest:
                raise InvalidSignature("the event is later than its signature")
            event_id = str(event.get("id", ""))[:MAX_ID_LENGTH]
        if not self._tokens.first_use(token, signed_at + self._tolerance, now, event_id):
            raise InvalidSignature("this token was used before: a replay")


def receipt_of(event: dict[str, Any], provider: str) -> DeliveryReceipt | None:
    """The receipt for one event, None for events no table maps (engagement, unknown)."""
    return _receipt(event, provider)


def _receipt(event: dict[str, Any], provider: str) -> DeliveryReceipt | None:
    kind = str(event.get("event", ""))
    mapped = EVENTS.get(kind)
    if mapped is None:
        return None
    status, suppress = mapped
    error_code = None
    if kind == "failed":
        reason = str(event.get("reason") or "generic")
        if event.get("severity") == "temporary":  # Mailgun retries: no change yet
            status = MessageStatus.SENT
        else:
            suppress = reason in SUPPRESSING_REASONS
        error_code = reason
    elif kind == "rejected":
        error_code = "rejected"
    if not event.get("id"):
        raise MalformedWebhook("the event has no id")
    variables = event.get("user-variables")
    reference = variables.get(REFERENCE_VARIABLE) if isinstance(variables, dict) else None
    return DeliveryReceipt(
        provider=provider,
        event_id=str(event["id"]),
        provider_message_id=_message_id(event),
        status=status,
        occurred_at=_time(event.get("timestamp")),
        error_code=error_code[:100] if error_code else None,
        reference=str(reference) if reference is not None else None,
        suppress=suppress,
    )


def _message_id(event: dict[str, Any]) -> str | None:
    message = event.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    value = headers.get("message-id") if isinstance(headers, dict) else None
    return bare_id(str(value)) if value else None


def _time(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise MalformedWebhook("the event has no Unix timestamp") from error


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = load_json(body)
    except MalformedWebhook as error:
        raise MalformedWebhook(
            "the body is not JSON (legacy form webhooks are not read)"
        ) from error
    if not isinstance(payload, dict):
        raise MalformedWebhook("the body is not a JSON object")
    return payload

"""SendGrid's Event Webhook: the signature checked with the SDK, events mapped to receipts.

Imported only by the container: importing it loads sendgrid and cryptography.

SendGrid signs `timestamp header + raw body` (ECDSA P-256, SHA-256; base64 DER signature; the
public key is base64 DER from the Mail Settings page). The body is checked exactly as it came,
trailing CRLF included. A timestamp more than `tolerance` away from now, either way, is
refused: a captured delivery cannot be replayed later.

Each event becomes a DeliveryReceipt through `EVENTS`: `sg_event_id` dedupes repeats, our
reference comes back from `custom_args` (SendGrid puts them at the top level of each event),
`provider_message_id` is `sg_message_id` up to its first dot (the send's `X-Message-Id`).
Engagement and unknown events (open, click, group_resubscribe …) change nothing: dropped.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from sendgrid.helpers.eventwebhook import EventWebhook

from justdriving.adapters.email.sendgrid.sender import REFERENCE_ARG
from justdriving.adapters.webhooks.bounds import MAX_DIGITS, load_json
from justdriving.domain.delivery import DeliveryReceipt
from justdriving.domain.errors import ConfigurationError, InvalidSignature, MalformedWebhook
from justdriving.domain.messages import MessageStatus

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
DEFAULT_TOLERANCE = timedelta(seconds=300)

# SendGrid event -> (status, the recipient must not be written to again). None: ignored.
EVENTS: dict[str, tuple[MessageStatus, bool] | None] = {
    "processed": (MessageStatus.SENT, False),
    "deferred": (MessageStatus.SENT, False),  # SendGrid keeps trying for up to 72 hours
    "delivered": (MessageStatus.DELIVERED, False),
    "bounce": (MessageStatus.FAILED, True),  # type "blocked" is a soft one: see BOUNCE_TYPES
    "dropped": (MessageStatus.FAILED, False),  # suppressed when DROP_REASONS says so
    "spamreport": (MessageStatus.DELIVERED, True),
    "unsubscribe": (MessageStatus.DELIVERED, True),
    "group_unsubscribe": (MessageStatus.DELIVERED, True),
    "open": None,
    "click": None,
    "group_resubscribe": None,
}
BOUNCE_TYPES = {"bounce": True, "blocked": False}  # type -> suppress
DROP_REASONS = frozenset(  # dropped because of an earlier bounce, complaint or unsubscribe
    {"bounced address", "spam reporting address", "unsubscribed address", "invalid"}
)


class SendGridWebhooks:
    """Verifies one Event Webhook delivery and turns its events into receipts."""

    def __init__(
        self, public_key: str, *, name: str = "sendgrid", tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> None:
        try:
            self._verifier = EventWebhook(public_key) if public_key else None
        except (ValueError, UnsupportedAlgorithm) as error:
            raise ConfigurationError(
                "the SendGrid event webhook key is not a base64 DER public key",
                ["MAIL_WEBHOOK_SECRET"],
            ) from error
        if self._verifier is None:
            raise ConfigurationError(
                "SendGrid webhooks are not configured", ["MAIL_WEBHOOK_SECRET"]
            )
        self.name, self._tolerance = name, tolerance

    def parse(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[DeliveryReceipt]:
        """Receipts for the events that matter, or InvalidSignature / MalformedWebhook."""
        self.verify(body, headers, now)
        return parse_events(body, self.name)

    def verify(self, body: bytes, headers: Mapping[str, str], now: datetime) -> None:
        signature, timestamp = (
            _header(headers, SIGNATURE_HEADER),
            _header(headers, TIMESTAMP_HEADER),
        )
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_DIGITS:
            raise InvalidSignature(f"{TIMESTAMP_HEADER} is not a Unix time")
        try:
            valid = self._verifier is not None and self._verifier.verify_signature(
                body.decode("utf-8"), signature, timestamp
            )
        except (UnicodeDecodeError, binascii.Error, ValueError) as error:
            raise InvalidSignature("the signature cannot be checked") from error
        if not valid:
            raise InvalidSignature("the signature does not match the body")
        if abs(now.timestamp() - int(timestamp)) > self._tolerance.total_seconds():
            raise InvalidSignature("the signature's timestamp is outside the tolerance")


def parse_events(body: bytes, provider: str = "sendgrid") -> list[DeliveryReceipt]:
    """The receipts in a verified body: a JSON array of event objects."""
    receipts = (_receipt(event, provider) for event in event_items(body))
    return [receipt for receipt in receipts if receipt is not None]


def event_items(body: bytes) -> list[dict[str, Any]]:
    """The event objects of a verified body (a JSON array, nested no deeper than the bound)."""
    events = load_json(body)
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise MalformedWebhook("the body is not a JSON array of events")
    return events


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
    if kind == "bounce":
        bounce_type = str(event.get("type") or "bounce").lower()
        suppress = BOUNCE_TYPES.get(bounce_type, False)
        error_code = str(event.get("status") or bounce_type)
    elif kind == "dropped":
        reason = str(event.get("reason") or event.get("type") or "dropped")
        suppress, error_code = reason.lower() in DROP_REASONS, reason
    message_id = event.get("sg_message_id")
    reference = event.get(REFERENCE_ARG)
    return DeliveryReceipt(
        provider=provider,
        event_id=str(event.get("sg_event_id") or _fingerprint(event)),
        provider_message_id=str(message_id).split(".", 1)[0] if message_id else None,
        status=status,
        occurred_at=_time(event.get("timestamp")),
        error_code=error_code[:100] if error_code else None,
        reference=str(reference) if reference is not None else None,
        suppress=suppress,
    )


def _time(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise MalformedWebhook("an event has no Unix timestamp") from error


def _fingerprint(event: dict[str, Any]) -> str:
    """A stable id for an event without sg_event_id (older dropped events): the same event
    sent twice gets the same one."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    return "sha256-" + hashlib.sha256(canonical).hexdigest()[:32]


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    raise InvalidSignature(f"no {name} header")

"""The fake gateway's webhook wire format: JSON events signed with HMAC-SHA256, Stripe-style."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from justdriving.domain.errors import InvalidInput, InvalidMoney, InvalidSignature, MalformedWebhook
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent

SIGNATURE_HEADER = "Fake-Signature"
TOLERANCE = timedelta(seconds=300)

WebhookDelivery = tuple[bytes, dict[str, str]]

_KINDS = {kind.value: kind for kind in PaymentEventKind if kind is not PaymentEventKind.UNKNOWN}
_TEXT_FIELDS = (
    "payment_id",
    "provider_payment_id",
    "refund_id",
    "provider_refund_id",
    "provider_dispute_id",
    "dispute_status",
    "failure_code",
    "customer_id",
    "provider_setup_id",
    "provider_method_id",
)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, at: datetime) -> dict[str, str]:
    """The headers a delivery of `body` signed at `at` carries."""
    timestamp = int(at.timestamp())
    return {SIGNATURE_HEADER: f"t={timestamp},v1={_mac(secret, timestamp, body)}"}


def encode(
    event_id: str,
    event_type: str,
    created: datetime,
    data: Mapping[str, Any],
    account: str | None = None,
) -> bytes:
    """The event as sent; `account` (top level, as Stripe Connect puts it) when it happened on
    a connected account."""
    event = {"id": event_id, "type": event_type, "created": int(created.timestamp()), "data": data}
    if account is not None:
        event["account"] = account
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


def verify(body: bytes, headers: Mapping[str, str], secret: str, now: datetime) -> None:
    """Raise InvalidSignature unless `body` was signed with `secret` within the tolerance."""
    if now.utcoffset() is None:
        raise InvalidInput("now must be timezone-aware")
    timestamp, signatures = _signature_header(headers)
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("the signature does not match the body")
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        raise InvalidSignature("the signature's timestamp is outside the tolerance")


def _signature_header(headers: Mapping[str, str]) -> tuple[int, list[str]]:
    wanted = SIGNATURE_HEADER.lower()
    value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if value is None:
        raise InvalidSignature(f"no {SIGNATURE_HEADER} header")
    pairs = [part.strip().partition("=") for part in value.split(",")]
    stamps = [v for k, _, v in pairs if k == "t"]
    signatures = [v for k, _, v in pairs if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or not signatures:
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is not t=<unix>,v1=<hex>")
    return int(stamps[0]), signatures


def parse(body: bytes, provider: str) -> ProviderPaymentEvent:
    """One verified event; MalformedWebhook when it is not the documented shape."""
    try:
        event = json.loads(body)
    except ValueError:
        raise MalformedWebhook("the body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedWebhook("the body is not a JSON object")
    event_id, event_type = event.get("id"), event.get("type")
    created, data = event.get("created"), event.get("data")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise MalformedWebhook("an event needs a string id and type")
    if type(created) is not int or not isinstance(data, dict):
        raise MalformedWebhook("an event needs an integer created and an object data")
    kind = _KINDS.get(event_type, PaymentEventKind.UNKNOWN)
    event_at = _moment(created)
    account = event.get("account")
    if account is not None and not isinstance(account, str):
        raise MalformedWebhook("account must be a string")
    if kind is PaymentEventKind.UNKNOWN:  # kept, not understood: its data may be any shape
        return ProviderPaymentEvent(provider, event_id, kind, event_at, event_type, account=account)
    if kind is PaymentEventKind.ACCOUNT_UPDATED:
        return _account_event(provider, event_id, event_at, account, data)
    text = _texts(data)
    return ProviderPaymentEvent(
        provider,
        event_id,
        kind,
        event_at,
        event_type,
        payment_id=text["payment_id"],
        provider_payment_id=text["provider_payment_id"],
        amount=_amount(data.get("amount")),
        refund_id=text["refund_id"],
        provider_refund_id=text["provider_refund_id"],
        provider_dispute_id=text["provider_dispute_id"],
        dispute_status=text["dispute_status"],
        failure_code=text["failure_code"],
        customer_id=text["customer_id"],
        provider_setup_id=text["provider_setup_id"],
        provider_method_id=text["provider_method_id"],
        account=account,
    )


def _account_event(
    provider: str, event_id: str, at: datetime, account: str | None, data: Mapping[str, Any]
) -> ProviderPaymentEvent:
    flags = data.get("charges_enabled"), data.get("details_submitted")
    if account is None or not all(type(flag) is bool for flag in flags):
        raise MalformedWebhook("account.updated needs account and boolean flags")
    return ProviderPaymentEvent(
        provider,
        event_id,
        PaymentEventKind.ACCOUNT_UPDATED,
        at,
        PaymentEventKind.ACCOUNT_UPDATED.value,
        account=account,
        charges_enabled=flags[0],
        details_submitted=flags[1],
    )


def _moment(created: int) -> datetime:
    try:
        return datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedWebhook("created is not a unix time") from None


def _texts(data: Mapping[str, Any]) -> dict[str, str | None]:
    texts = {name: data.get(name) for name in _TEXT_FIELDS}
    for name, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise MalformedWebhook(f"data.{name} must be a string")
    return texts


def _amount(value: Any) -> Money | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise MalformedWebhook("data.amount must be {amount, currency}")
    try:
        return Money(value["amount"], value["currency"])
    except InvalidMoney as error:
        raise MalformedWebhook(f"data.amount: {error}") from None


def amount_data(amount: Money) -> dict[str, Any]:
    return {"amount": amount.amount, "currency": amount.currency}

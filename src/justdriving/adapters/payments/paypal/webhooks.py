"""PayPal webhook deliveries: the transmission headers, the verification request, and the
translation of PayPal's events into provider-neutral ones.

PayPal signs `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>`, so
the body must reach `verify-webhook-signature` byte for byte: the request is built around the
raw body instead of re-serialising a parsed copy (which changes spacing and key order).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen

from justdriving.adapters.payments.paypal.money import money_from_paypal
from justdriving.domain.errors import InvalidMoney, InvalidSignature, MalformedWebhook
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent

VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
TOLERANCE = timedelta(seconds=300)
HEADERS = (
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
)


@frozen
class Transmission:
    """The signature headers of one delivery, exactly as PayPal sent them."""

    transmission_id: str
    transmission_time: str
    transmission_sig: str
    cert_url: str
    auth_algo: str


def transmission(headers: Mapping[str, str], now: datetime) -> Transmission:
    """The delivery's signature headers; InvalidSignature when one is missing or the
    transmission time is more than five minutes from `now`, either way (a replay)."""
    lower = {name.lower(): value for name, value in headers.items()}
    values = [lower.get(name.lower(), "").strip() for name in HEADERS]
    missing = [name for name, value in zip(HEADERS, values, strict=True) if not value]
    if missing:
        raise InvalidSignature(f"the delivery has no {', '.join(missing)} header")
    sent_at = _moment(values[1], InvalidSignature)
    if abs(now - sent_at) > TOLERANCE:
        raise InvalidSignature("the transmission time is more than five minutes from now")
    return Transmission(*values)


def require_json(body: bytes) -> None:
    """PayPal verifies an event it can read as JSON, and sends nothing else: a body that is not
    a JSON object, or whose id or type is not a string, cannot be PayPal's, so it is refused as
    unsigned without asking PayPal."""
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidSignature("the body is not JSON, so PayPal cannot have signed it") from None
    if not isinstance(event, dict):
        raise InvalidSignature("the body is not a JSON object, so PayPal cannot have signed it")
    for field in ("id", "event_type"):  # strings in every event PayPal sends
        if field in event and not isinstance(event[field], str):
            raise InvalidSignature(f"the event's {field} is not a string: not PayPal's")


def verification_request(delivery: Transmission, webhook_id: str, body: bytes) -> bytes:
    """The verify-webhook-signature request with the raw body spliced in as `webhook_event`."""
    fields = {
        "auth_algo": delivery.auth_algo,
        "cert_url": delivery.cert_url,
        "transmission_id": delivery.transmission_id,
        "transmission_sig": delivery.transmission_sig,
        "transmission_time": delivery.transmission_time,
        "webhook_id": webhook_id,
    }
    head = json.dumps(fields, separators=(",", ":"))
    return head[:-1].encode() + b',"webhook_event":' + body + b"}"


def parse_event(body: bytes, provider: str) -> ProviderPaymentEvent:
    """One verified delivery as a provider-neutral event; MalformedWebhook when it is not an
    event of the documented shape. Event types not handled here come back as UNKNOWN."""
    event = json.loads(body)
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise MalformedWebhook("a PayPal event needs a string id and event_type")
    occurred_at = _moment(event.get("create_time"), MalformedWebhook)
    reader = _READERS.get(event_type)
    if reader is None:
        return ProviderPaymentEvent(
            provider, event_id, PaymentEventKind.UNKNOWN, occurred_at, event_type
        )
    resource = event.get("resource")
    if not isinstance(resource, dict):
        raise MalformedWebhook(f"{event_type} needs an object resource")
    fields = reader(event_type, resource)
    return ProviderPaymentEvent(
        provider, event_id, occurred_at=occurred_at, raw_type=event_type, **fields
    )


# Readers: one per resource type, each returning the ProviderPaymentEvent fields it knows.

Fields = dict[str, Any]


def _order(event_type: str, order: Mapping[str, Any]) -> Fields:
    # The payer approved; no money moves until we capture (CAPTURE) or authorize (AUTHORIZE).
    unit = _first(order.get("purchase_units"))
    return {
        "kind": PaymentEventKind.APPROVED,
        "payment_id": _text(unit, "custom_id"),
        "provider_payment_id": _text(order, "id"),
        "amount": _money(unit.get("amount")),
    }


_CAPTURE_KINDS = {
    "PAYMENT.CAPTURE.COMPLETED": PaymentEventKind.SUCCEEDED,
    "PAYMENT.CAPTURE.PENDING": PaymentEventKind.PROCESSING,
    "PAYMENT.CAPTURE.DENIED": PaymentEventKind.FAILED,
    "PAYMENT.CAPTURE.DECLINED": PaymentEventKind.FAILED,
    "PAYMENT.AUTHORIZATION.CREATED": PaymentEventKind.AUTHORIZED,
    "PAYMENT.AUTHORIZATION.VOIDED": PaymentEventKind.CANCELED,
}


def _payment(event_type: str, resource: Mapping[str, Any]) -> Fields:
    """A capture or an authorization (v2; v1 events carry no order id or custom_id)."""
    kind = _CAPTURE_KINDS[event_type]
    related = _object(_object(resource, "supplementary_data"), "related_ids")
    fields: Fields = {
        "kind": kind,
        "payment_id": _text(resource, "custom_id"),
        "provider_payment_id": _text(related, "order_id"),
        "amount": _money(resource.get("amount")),
    }
    if kind is PaymentEventKind.FAILED:
        fields["failure_code"] = _text(_object(resource, "status_details"), "reason")
    return fields


_REFUND_KINDS = {
    "COMPLETED": PaymentEventKind.REFUND_SUCCEEDED,
    "PENDING": PaymentEventKind.REFUND_PENDING,
    "FAILED": PaymentEventKind.REFUND_FAILED,
    "CANCELLED": PaymentEventKind.REFUND_CANCELED,
}


def _refund(event_type: str, refund: Mapping[str, Any]) -> Fields:
    """PAYMENT.CAPTURE.REFUNDED carries the refund: its status says how it ended. We send our
    payment id as custom_id and our refund id as invoice_id. A REVERSED capture is money PayPal
    took back without us asking, so it names no refund of ours."""
    status = _text(refund, "status") or "COMPLETED"
    reversed_ = event_type == "PAYMENT.CAPTURE.REVERSED"
    kind = PaymentEventKind.REFUND_SUCCEEDED if reversed_ else _REFUND_KINDS.get(status)
    if kind is None:
        raise MalformedWebhook(f"unknown refund status {status!r}")
    return {
        "kind": kind,
        "payment_id": _text(refund, "custom_id"),
        "refund_id": None if reversed_ else _text(refund, "invoice_id"),
        "provider_refund_id": _text(refund, "id"),
        "amount": _money(refund.get("amount")),
        "failure_code": _text(_object(refund, "status_details"), "reason"),
    }


_DISPUTE_KINDS = {
    "CUSTOMER.DISPUTE.CREATED": PaymentEventKind.DISPUTE_OPENED,
    "CUSTOMER.DISPUTE.UPDATED": PaymentEventKind.DISPUTE_UPDATED,
    "CUSTOMER.DISPUTE.RESOLVED": PaymentEventKind.DISPUTE_CLOSED,
}
# PayPal's dispute states in the domain's words (domain/disputes.py closes on won/lost/...).
_OPEN_STATUSES = {"OPEN": "needs_response", "WAITING_FOR_SELLER_RESPONSE": "needs_response"}
_OUTCOMES = {
    "RESOLVED_SELLER_FAVOUR": "won",
    "CANCELED_BY_BUYER": "won",
    "DENIED": "won",
    "RESOLVED_BUYER_FAVOUR": "lost",
    "RESOLVED_WITH_PAYOUT": "lost",
    "ACCEPTED": "lost",
}


def _dispute(event_type: str, dispute: Mapping[str, Any]) -> Fields:
    status = _text(dispute, "status") or ""
    if status == "RESOLVED" or event_type == "CUSTOMER.DISPUTE.RESOLVED":
        outcome = _text(_object(dispute, "dispute_outcome"), "outcome_code") or ""
        ours = _OUTCOMES.get(outcome, "warning_closed")
    else:
        ours = _OPEN_STATUSES.get(status, "under_review")
    transaction = _first(dispute.get("disputed_transactions"))
    return {
        "kind": _DISPUTE_KINDS[event_type],
        "payment_id": _text(transaction, "custom"),
        "provider_dispute_id": _text(dispute, "dispute_id"),
        "dispute_status": ours,
        "amount": _money(dispute.get("dispute_amount")),
    }


_READERS: dict[str, Callable[[str, Mapping[str, Any]], Fields]] = {
    "CHECKOUT.ORDER.APPROVED": _order,
    "PAYMENT.CAPTURE.REFUNDED": _refund,
    "PAYMENT.CAPTURE.REVERSED": _refund,
    **dict.fromkeys(_CAPTURE_KINDS, _payment),
    **dict.fromkeys(_DISPUTE_KINDS, _dispute),
}


# Shapes.


def _moment(value: Any, error: type[Exception]) -> datetime:
    if not isinstance(value, str):
        raise error("a PayPal time is an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise error(f"not an RFC 3339 time: {value!r}") from None
    if moment.utcoffset() is None:
        raise error(f"a PayPal time carries its offset: {value!r}")
    return moment


def _object(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{name} must be an object")
    return value


def _first(value: Any) -> Mapping[str, Any]:
    if value is None or value == []:
        return {}
    if not isinstance(value, list) or not isinstance(value[0], dict):
        raise MalformedWebhook("expected a list of objects")
    return value[0]


def _text(parent: Mapping[str, Any], name: str) -> str | None:
    value = parent.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedWebhook(f"{name} must be a string")
    return value or None


def _money(value: Any) -> Money | None:
    if value is None:
        return None
    try:
        return money_from_paypal(value)
    except InvalidMoney as error:
        raise MalformedWebhook(f"amount: {error}") from None

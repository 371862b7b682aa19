"""Vipps MobilePay webhook events (ePayment's and the Recurring API's) in the provider-neutral
vocabulary; the deliveries' signature is checked in signature.py.

An ePayment event names the payment by our `reference` and carries no id of its own: each
operation (create, capture, refund, cancel) has a `pspReference`, so `<reference>:<name>:<psp>`
is the event's id, the same on every redelivery.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from justdriving.adapters.payments.mobilepay import reference as refs
from justdriving.adapters.payments.mobilepay.recurring import charge_money, customer_of
from justdriving.adapters.payments.webhook_heads import json_object
from justdriving.domain.errors import InvalidMoney, MalformedWebhook, UnusableWebhook
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.ports.webhooks import WebhookHead

EVENT_TYPES = {
    name: f"epayments.payment.{name.lower()}.v1"
    for name in (
        "CREATED",
        "ABORTED",
        "EXPIRED",
        "CANCELLED",
        "CAPTURED",
        "REFUNDED",
        "AUTHORIZED",
        "TERMINATED",
    )
}
CURRENCIES = frozenset({"NOK", "DKK", "EUR", "SEK"})

_PLAIN = {
    # CREATED says what `start` already knows (the payment waits for the payer): kept, moves
    # nothing, so that a CREATED stamped the same millisecond as the approval cannot hide it.
    "CREATED": PaymentEventKind.UNKNOWN,
    "CAPTURED": PaymentEventKind.SUCCEEDED,
    "CANCELLED": PaymentEventKind.CANCELED,  # an authorization the merchant let go
    "TERMINATED": PaymentEventKind.CANCELED,  # the merchant ended it before approval
    "ABORTED": PaymentEventKind.FAILED,  # the payer said no in the app
    "EXPIRED": PaymentEventKind.FAILED,  # the payer did nothing in time
}


def event_head(body: bytes) -> WebhookHead:
    """The id and type `parse_event` gives, read alone; UnusableWebhook without them."""
    event = json_object(body)
    try:
        event_type = event.get("eventType")
        if isinstance(event_type, str) and event_type.startswith("recurring."):
            return _recurring_head(event, event_type)
        name, reference = _text(event, "name"), _text(event, "reference")
        psp = _text(event, "pspReference")
    except MalformedWebhook as error:
        raise UnusableWebhook(str(error)) from None
    if not name or not reference or not psp:
        raise UnusableWebhook("an ePayment event names the event, the reference and pspReference")
    return WebhookHead(f"{reference}:{name}:{psp}", EVENT_TYPES.get(name, name))


def _recurring_head(event: Mapping[str, Any], event_type: str) -> WebhookHead:
    """The id `parse_recurring_event` gives a Recurring event, read alone."""
    agreement_id, charge_id = _text(event, "agreementId"), _text(event, "chargeId")
    if not agreement_id:
        raise MalformedWebhook("a Recurring event names its agreement")
    if event_type in RECURRING_AGREEMENT:
        return WebhookHead(f"{agreement_id}:{event_type}", event_type)
    if event_type not in RECURRING_CHARGE or not charge_id:
        return WebhookHead(f"{agreement_id}:{charge_id or ''}:{event_type}", event_type)
    return WebhookHead(f"{charge_id}:{event_type}", event_type)


def parse_event(body: bytes, provider: str, msn: str) -> ProviderPaymentEvent:
    """One verified delivery as a provider-neutral event; MalformedWebhook when it is not an
    ePayment event of the documented shape (or is another sales unit's)."""
    try:
        event = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedWebhook("the body is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedWebhook("an ePayment event is a JSON object")
    event_type = event.get("eventType")
    if isinstance(event_type, str) and event_type.startswith("recurring."):
        return parse_recurring_event(event, event_type, provider, msn)
    name, reference = _text(event, "name"), _text(event, "reference")
    psp, event_msn = _text(event, "pspReference"), _text(event, "msn")
    if not name or not reference or not psp:
        raise MalformedWebhook("an ePayment event names the event, the reference and pspReference")
    if event_msn is not None and event_msn != msn:
        raise MalformedWebhook("the event is another sales unit's")
    occurred_at = _moment(event.get("timestamp"))
    event_id = f"{reference}:{name}:{psp}"
    raw_type = EVENT_TYPES.get(name, name)
    if name not in EVENT_TYPES:
        return ProviderPaymentEvent(
            provider, event_id, PaymentEventKind.UNKNOWN, occurred_at, raw_type
        )
    payment_id, manual = refs.payment_of(reference)
    success = event.get("success", True)
    if not isinstance(success, bool):
        raise MalformedWebhook("success must be true or false")
    fields: dict[str, Any] = {
        "payment_id": payment_id,
        "provider_payment_id": reference,
        "amount": _money(event.get("amount")),
    }
    if name == "REFUNDED":
        kind = PaymentEventKind.REFUND_SUCCEEDED if success else PaymentEventKind.REFUND_FAILED
        fields["refund_id"] = refs.refund_of(_text(event, "idempotencyKey"))
        fields["provider_refund_id"] = psp
    elif not success:  # an operation that did not go through moves nothing
        kind = PaymentEventKind.UNKNOWN
    elif name == "AUTHORIZED":
        # A hold waits for our capture; any other payment is captured by us now (`complete`).
        kind = PaymentEventKind.AUTHORIZED if manual else PaymentEventKind.APPROVED
    else:
        kind = _PLAIN[name]
        if kind is PaymentEventKind.FAILED:
            fields["failure_code"] = name
    return ProviderPaymentEvent(
        provider, event_id, kind, occurred_at=occurred_at, raw_type=raw_type, **fields
    )


# Recurring API events: an agreement's (the student approved, rejected, let it lapse, or it was
# stopped) and a charge's (captured, failed, cancelled...). Each names its agreement, a charge's
# also its charge (whose id is our `orderId`, which carries our payment id); `occurred` is when.
RECURRING_AGREEMENT = {
    "recurring.agreement-activated.v1": PaymentEventKind.SETUP_SUCCEEDED,
    "recurring.agreement-rejected.v1": PaymentEventKind.SETUP_FAILED,
    "recurring.agreement-expired.v1": PaymentEventKind.SETUP_FAILED,
    # Stopped (by us on removal, or by the student in the app): nothing to charge any more;
    # saved_methods no longer lists it. No payment moves.
    "recurring.agreement-stopped.v1": PaymentEventKind.UNKNOWN,
}
RECURRING_CHARGE = {
    "recurring.charge-captured.v1": PaymentEventKind.SUCCEEDED,
    "recurring.charge-failed.v1": PaymentEventKind.FAILED,
    "recurring.charge-creation-failed.v1": PaymentEventKind.FAILED,
    "recurring.charge-canceled.v1": PaymentEventKind.CANCELED,
    # A reservation is for RESERVE_CAPTURE charges, which we do not make; a refund of a charge
    # is not made through this adapter. Both are kept as news that moves nothing.
    "recurring.charge-reserved.v1": PaymentEventKind.UNKNOWN,
    "recurring.charge-refunded.v1": PaymentEventKind.UNKNOWN,
}
RECURRING_EVENT_TYPES = (*RECURRING_AGREEMENT, *RECURRING_CHARGE)


def parse_recurring_event(
    event: Mapping[str, Any], event_type: str, provider: str, msn: str
) -> ProviderPaymentEvent:
    agreement_id, event_msn = _text(event, "agreementId"), _text(event, "msn")
    if not agreement_id:
        raise MalformedWebhook("a Recurring event names its agreement")
    if event_msn is not None and event_msn != msn:
        raise MalformedWebhook("the event is another sales unit's")
    occurred_at = _moment(event.get("occurred"))
    charge_id = _text(event, "chargeId")
    if event_type in RECURRING_AGREEMENT:
        kind = RECURRING_AGREEMENT[event_type]
        fields: dict[str, Any] = {}
        if kind is not PaymentEventKind.UNKNOWN:
            fields = {
                "customer_id": customer_of(_text(event, "agreementExternalId")),
                "provider_setup_id": agreement_id,
            }
            if kind is PaymentEventKind.SETUP_SUCCEEDED:
                fields["provider_method_id"] = agreement_id
            else:
                fields["failure_code"] = event_type.split(".")[1].removeprefix("agreement-")
        return ProviderPaymentEvent(
            provider,
            f"{agreement_id}:{event_type}",
            kind,
            occurred_at=occurred_at,
            raw_type=event_type,
            **fields,
        )
    if event_type not in RECURRING_CHARGE or not charge_id:
        event_id = f"{agreement_id}:{charge_id or ''}:{event_type}"
        return ProviderPaymentEvent(
            provider, event_id, PaymentEventKind.UNKNOWN, occurred_at, event_type
        )
    kind = RECURRING_CHARGE[event_type]
    event_id = f"{charge_id}:{event_type}"
    if kind is PaymentEventKind.UNKNOWN:
        return ProviderPaymentEvent(provider, event_id, kind, occurred_at, event_type)
    payment_id, _ = refs.payment_of(charge_id)
    captured = event.get("amountCaptured", event.get("amount"))
    fields = {
        "payment_id": payment_id,
        "provider_payment_id": charge_id,
        "amount": charge_money(captured, event.get("currency")),
    }
    if kind is PaymentEventKind.FAILED:
        fields["failure_code"] = _text(event, "failureReason") or "failed"
    return ProviderPaymentEvent(
        provider, event_id, kind, occurred_at=occurred_at, raw_type=event_type, **fields
    )


def _text(parent: Mapping[str, Any], name: str) -> str | None:
    value = parent.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedWebhook(f"{name} must be a string")
    return value or None


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedWebhook("timestamp is an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedWebhook(f"not an ISO 8601 time: {value[:40]!r}") from None
    if moment.utcoffset() is None:
        raise MalformedWebhook("timestamp carries no offset")
    return moment


def _money(value: Any) -> Money | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedWebhook("amount must be an object")
    currency, minor = value.get("currency"), value.get("value")
    if currency not in CURRENCIES or type(minor) is not int or minor < 0:
        raise MalformedWebhook("amount is {currency, value} in minor units")
    try:
        return Money(minor, str(currency))
    except InvalidMoney as error:
        raise MalformedWebhook(f"amount: {error}") from None

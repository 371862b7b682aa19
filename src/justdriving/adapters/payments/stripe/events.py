"""Stripe events (already verified) translated into provider-neutral payment events.

Our payment is found through `metadata.payment_id`, which the adapter puts on the PaymentIntent,
the Checkout Session and each refund. Event types not listed here come back as UNKNOWN.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import evolve

from justdriving.adapters.payments.stripe.amounts import from_stripe
from justdriving.domain.errors import InvalidMoney, MalformedWebhook
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind as Kind
from justdriving.domain.payment_events import ProviderPaymentEvent

Obj = Mapping[str, Any]

_INTENT_KINDS = {
    "payment_intent.succeeded": (Kind.SUCCEEDED, "amount_received"),
    "payment_intent.amount_capturable_updated": (Kind.AUTHORIZED, "amount_capturable"),
    "payment_intent.payment_failed": (Kind.FAILED, None),
    "payment_intent.canceled": (Kind.CANCELED, None),
    "payment_intent.requires_action": (Kind.REQUIRES_ACTION, None),
    "payment_intent.processing": (Kind.PROCESSING, None),
}
_SETUP_KINDS = {
    "setup_intent.requires_action": Kind.SETUP_REQUIRES_ACTION,
    "setup_intent.succeeded": Kind.SETUP_SUCCEEDED,
    "setup_intent.setup_failed": Kind.SETUP_FAILED,
}
_SESSION_KINDS = {
    "checkout.session.async_payment_succeeded": Kind.SUCCEEDED,
    "checkout.session.async_payment_failed": Kind.FAILED,
    "checkout.session.expired": Kind.CANCELED,
}
_REFUND_KINDS = {
    "pending": Kind.REFUND_PENDING,
    "requires_action": Kind.REFUND_PENDING,
    "succeeded": Kind.REFUND_SUCCEEDED,
    "failed": Kind.REFUND_FAILED,
    "canceled": Kind.REFUND_CANCELED,
}
_REFUND_TYPES = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)
_DISPUTE_KINDS = {
    "charge.dispute.created": Kind.DISPUTE_OPENED,
    "charge.dispute.updated": Kind.DISPUTE_UPDATED,
    "charge.dispute.closed": Kind.DISPUTE_CLOSED,
}


class _Event:
    """The envelope of one Stripe event: id, type, created and data.object."""

    def __init__(self, body: bytes, provider: str) -> None:
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
        self.id, self.type = event_id, event_type
        if type(created) is not int or not isinstance(data, dict):
            raise MalformedWebhook("an event needs an integer created and an object data")
        if not isinstance(data.get("object"), dict):
            raise MalformedWebhook("an event needs data.object")
        self.object: Obj = data["object"]
        self.provider = provider
        # Stripe Connect: the connected account the event happened on (top level).
        self.account = event.get("account")
        if self.account is not None and not isinstance(self.account, str):
            raise MalformedWebhook("account must be a string")
        try:
            self.created = datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedWebhook("created is not a unix time") from None

    def unknown(self) -> ProviderPaymentEvent:
        return ProviderPaymentEvent(self.provider, self.id, Kind.UNKNOWN, self.created, self.type)

    def make(self, kind: Kind, obj: Obj, **fields: Any) -> ProviderPaymentEvent:
        return ProviderPaymentEvent(
            self.provider,
            fields.pop("event_id", self.id),
            kind,
            self.created,
            self.type,
            payment_id=_metadata(obj).get("payment_id"),
            **fields,
        )


def parse_event(body: bytes, provider: str) -> list[ProviderPaymentEvent]:
    """The events one verified delivery carries; MalformedWebhook when it is not Stripe's shape."""
    event = _Event(body, provider)
    parse = _parser_for(event.type)
    parsed = parse(event) if parse else [event.unknown()]
    if event.account is None:
        return parsed
    return [evolve(one, account=event.account) for one in parsed]


def _account(event: _Event) -> list[ProviderPaymentEvent]:
    """A connected account changed; an event about the platform's own account is not ours."""
    account = event.object
    flags = account.get("charges_enabled"), account.get("details_submitted")
    if event.account is None:
        return [event.unknown()]
    if _text(account, "id") != event.account or not all(type(f) is bool for f in flags):
        raise MalformedWebhook("account.updated needs the account with its boolean flags")
    return [
        ProviderPaymentEvent(
            event.provider,
            event.id,
            Kind.ACCOUNT_UPDATED,
            event.created,
            event.type,
            charges_enabled=flags[0],
            details_submitted=flags[1],
        )
    ]


def _intent(event: _Event) -> list[ProviderPaymentEvent]:
    kind, amount_field = _INTENT_KINDS[event.type]
    pi = event.object
    amount = _money(pi, amount_field) if amount_field else None
    if kind is Kind.AUTHORIZED and amount is not None and not amount.is_positive:
        kind = Kind.UNKNOWN  # the capturable amount fell to zero: nothing is held any more
    # Without its amount a success or a hold still comes through, amount None: the payment is
    # then held for review (domain.payments), never taken as paid in full.
    error = pi.get("last_payment_error")
    failure = None
    if kind is Kind.FAILED and isinstance(error, dict):
        failure = _text(error, "decline_code") or _text(error, "code")
        if _text(error, "code") == "authentication_required":  # off session: the payer must act
            kind, failure = Kind.REQUIRES_ACTION, None
    return [
        event.make(
            kind, pi, provider_payment_id=_text(pi, "id"), amount=amount, failure_code=failure
        )
    ]


def _setup(event: _Event) -> list[ProviderPaymentEvent]:
    """A SetupIntent saving a card: about our customer (its metadata), not about a payment."""
    setup = event.object
    error = setup.get("last_setup_error")
    failure = None
    if event.type == "setup_intent.setup_failed" and isinstance(error, dict):
        failure = _text(error, "decline_code") or _text(error, "code")
    return [
        ProviderPaymentEvent(
            event.provider,
            event.id,
            _SETUP_KINDS[event.type],
            event.created,
            event.type,
            customer_id=_metadata(setup).get("customer_id"),
            provider_setup_id=_text(setup, "id"),
            provider_method_id=_text(setup, "payment_method"),
            failure_code=failure,
        )
    ]


def _session(event: _Event) -> list[ProviderPaymentEvent]:
    session = event.object
    if event.type == "checkout.session.completed":
        kind = _completed_kind(session)
    else:
        kind = _SESSION_KINDS[event.type]
    amount = _money(session, "amount_total") if kind is not Kind.CANCELED else None
    # The session's PaymentIntent, once there is one: disputes and refunds name it, so the
    # payment learns it as its alias (it was started under the session's id).
    reference = _text(session, "payment_intent") or _text(session, "id")
    return [event.make(kind, session, provider_payment_id=reference, amount=amount)]


def _completed_kind(session: Obj) -> Kind:
    status = session.get("payment_status")
    if status in ("paid", "no_payment_required"):
        return Kind.SUCCEEDED
    if status != "unpaid":
        raise MalformedWebhook(f"unknown payment_status {status!r}")
    # Unpaid at completion: a card held for manual capture, or a bank debit still on its way.
    manual = _metadata(session).get("capture_method") == "manual"
    return Kind.AUTHORIZED if manual else Kind.PROCESSING


def _refund(event: _Event, refund: Obj, event_id: str | None = None) -> ProviderPaymentEvent:
    kind = _REFUND_KINDS.get(str(refund.get("status")))
    if kind is None:
        raise MalformedWebhook(f"unknown refund status {refund.get('status')!r}")
    return event.make(
        kind,
        refund,
        event_id=event_id or event.id,
        provider_payment_id=_text(refund, "payment_intent"),
        amount=_money(refund, "amount"),
        refund_id=_metadata(refund).get("refund_id"),
        provider_refund_id=_text(refund, "id"),
        failure_code=_text(refund, "failure_reason"),
    )


def _charge_refunded(event: _Event) -> list[ProviderPaymentEvent]:
    """One event per refund embedded in the charge; without them the charge says too little."""
    refunds = event.object.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if not isinstance(listed, list) or not listed:
        return [event.unknown()]
    if not all(isinstance(refund, dict) for refund in listed):
        raise MalformedWebhook("charge.refunds.data must hold refund objects")
    return [_refund(event, refund, f"{event.id}:{refund.get('id')}") for refund in listed]


def _dispute(event: _Event) -> list[ProviderPaymentEvent]:
    dispute = event.object
    return [
        event.make(
            _DISPUTE_KINDS[event.type],
            dispute,
            provider_payment_id=_text(dispute, "payment_intent"),
            amount=_money(dispute, "amount"),
            provider_dispute_id=_text(dispute, "id"),
            dispute_status=_text(dispute, "status"),
        )
    ]


def _refund_event(event: _Event) -> list[ProviderPaymentEvent]:
    return [_refund(event, event.object)]


def _parser_for(event_type: str) -> Callable[[_Event], list[ProviderPaymentEvent]] | None:
    if event_type == "checkout.session.completed" or event_type in _SESSION_KINDS:
        return _session
    if event_type == "charge.refunded":
        return _charge_refunded
    if event_type in _INTENT_KINDS:
        return _intent
    if event_type in _SETUP_KINDS:
        return _setup
    if event_type in _REFUND_TYPES:
        return _refund_event
    if event_type in _DISPUTE_KINDS:
        return _dispute
    if event_type == "account.updated":
        return _account
    return None


def _text(obj: Obj, name: str) -> str | None:
    value = obj.get(name)
    if isinstance(value, dict):  # an expanded object: its id
        value = value.get("id")
    if value is not None and not isinstance(value, str):
        raise MalformedWebhook(f"{name} must be a string")
    return value


def _metadata(obj: Obj) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise MalformedWebhook("metadata must map strings to strings")
    return metadata


def _money(obj: Obj, field: str) -> Money | None:
    amount, currency = obj.get(field), obj.get("currency")
    if amount is None:
        return None
    if not isinstance(currency, str):
        raise MalformedWebhook(f"{field} comes without a currency")
    try:
        return from_stripe(amount, currency)
    except InvalidMoney as error:
        raise MalformedWebhook(f"{field}: {error}") from None

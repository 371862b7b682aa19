"""Stripe behind the PaymentGateway port, through the official SDK's StripeClient.

Imported only by the container: importing it loads stripe-python.

A payment is a PaymentIntent (`pi_…`, its client secret for Stripe's Payment Element) or, when
the request has a return_url and hosted checkout is on, a Checkout Session (`cs_…`, its hosted
page as redirect_url). Stripe creates a Session's PaymentIntent only when the payer confirms, so
the Session id is what `start` returns; capture, cancel and refund look the PaymentIntent up
from it. Webhooks about a Session carry its id, webhooks about its PaymentIntent carry the
`pi_…` id, and every one of them carries our payment id in `metadata.payment_id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import stripe

from justdriving.adapters.payments.stripe.amounts import to_stripe
from justdriving.adapters.payments.stripe.cards import StripeCardsOnFile
from justdriving.adapters.payments.stripe.connect import StripeConnect
from justdriving.adapters.payments.stripe.events import parse_event
from justdriving.adapters.payments.stripe.signature import DEFAULT_TOLERANCE, verify
from justdriving.adapters.payments.webhook_heads import READ_ERRORS, json_head
from justdriving.domain.errors import (
    ConfigurationError,
    InvalidMoney,
    MalformedWebhook,
    ProviderRejected,
    UnusableWebhook,
)
from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest, PaymentSession, RefundRequest, RefundResult
from justdriving.ports.webhooks import WebhookHead

API_VERSION = "2026-10-28.endive"  # the version stripe-python 16.1 is generated for
# MobilePay at Stripe (docs.stripe.com/payments/mobilepay): a single-use card wallet presented in
# DKK, EUR, NOK and SEK, with manual capture, refunds and partial refunds, no recurring use;
# Stripe runs the card underneath, so a hold follows the card authorization window the deposits
# already use. On the API version pinned here it is offered with `allowed_payment_method_types`
# (payment_method_types is no longer writable since 2026-09-30.endive).
MOBILEPAY_CURRENCIES = frozenset({"dkk", "eur", "nok", "sek"})
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}


class StripeGateway(StripeCardsOnFile, StripeConnect):
    """Stripe payments: idempotent by key, errors translated, webhooks verified by hand."""

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        name: str = "stripe",
        tolerance: timedelta = DEFAULT_TOLERANCE,
        hosted_checkout: bool = True,
        timeout: float = 30.0,
    ) -> None:
        missing = [
            n for n, v in (("secret key", secret_key), ("webhook secret", webhook_secret)) if not v
        ]
        if missing:
            raise ConfigurationError(f"{name} is not configured", [f"no {m}" for m in missing])
        self.name = name
        self._webhook_secret, self._tolerance = webhook_secret, tolerance
        self._hosted_checkout = hosted_checkout
        # No SDK retries: the relay retries with the same idempotency key, and says when.
        self._client = stripe.StripeClient(
            secret_key,
            stripe_version=API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.new_default_http_client(timeout=timeout),
        )

    # The port.

    def start(self, request: PaymentRequest) -> PaymentSession:
        amount, currency = self._amount(request.amount)
        metadata = {**request.metadata, "payment_id": request.payment_id}
        metadata["school_id"] = request.school_id
        if request.return_url and self._hosted_checkout:
            return self._checkout(request, request.return_url, (amount, currency), metadata)
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "description": request.description,
            "metadata": metadata,
        }
        methods = _methods(request, currency)
        if methods:
            params["allowed_payment_method_types"] = methods
        else:
            params["automatic_payment_methods"] = {"enabled": True}
        if request.capture_mode is CaptureMode.MANUAL:
            params["capture_method"] = "manual"
        if request.application_fee is not None and request.application_fee.is_positive:
            params["application_fee_amount"] = self._amount(request.application_fee)[0]
        if request.customer_email is not None:
            params["receipt_email"] = request.customer_email.value
        options = self._options(request.idempotency_key)
        intent = self._call(lambda: self._client.v1.payment_intents.create(params, options))
        return PaymentSession(self.name, intent.id, client_secret=intent.client_secret)

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None:
        stripe_amount, _ = self._amount(amount)
        intent, _ = self._intent_of(provider_payment_id, "capture")
        options = self._options(idempotency_key)
        self._call(
            lambda: self._client.v1.payment_intents.capture(
                intent, {"amount_to_capture": stripe_amount}, options
            )
        )

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """A confirmed PaymentIntent finishes by itself: Stripe needs no step from us."""

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None:
        options = self._options(idempotency_key)
        intent = provider_payment_id
        if provider_payment_id.startswith("cs_"):
            session = self._session(provider_payment_id)
            if session.status == "expired":  # by us before (a retry) or by Stripe after 24 h
                return
            if session.status == "open":
                sessions = self._client.v1.checkout.sessions
                self._call(lambda: sessions.expire(provider_payment_id, None, options))
                return
            intent, _ = self._intent_in(session, "cancel")
        self._call(lambda: self._client.v1.payment_intents.cancel(intent, None, options))

    def refund(self, request: RefundRequest) -> RefundResult:
        amount, _ = self._amount(request.amount)
        intent, payment_id = self._intent_of(request.provider_payment_id, "refund")
        metadata = {"refund_id": request.refund_id, "reason": request.reason[:500]}
        if payment_id:
            metadata["payment_id"] = payment_id
        params: stripe.params.RefundCreateParams = {
            "payment_intent": intent,
            "amount": amount,
            "metadata": metadata,
        }
        reason = request.reason.strip().lower().replace(" ", "_")
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        options = self._options(request.idempotency_key)
        refund = self._call(lambda: self._client.v1.refunds.create(params, options))
        status = _REFUND_STATUSES.get(refund.status or "pending", RefundStatus.PENDING)
        return RefundResult(provider_refund_id=refund.id, status=status)

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]:
        verify(body, headers, self._webhook_secret, now, self._tolerance)
        return self.read_webhook(body)

    def admit_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> WebhookHead:
        verify(body, headers, self._webhook_secret, now, self._tolerance)
        return json_head(body, "id", "type")

    def read_webhook(self, body: bytes) -> list[ProviderPaymentEvent]:
        try:
            return parse_event(body, self.name)
        except MalformedWebhook as error:  # signed, but not an event we can read
            raise UnusableWebhook(str(error)) from None
        except READ_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None

    # Mechanics.

    def _checkout(
        self,
        request: PaymentRequest,
        return_url: str,
        price: tuple[int, str],
        metadata: dict[str, str],
    ) -> PaymentSession:
        """A hosted Checkout page for one line: the lesson, deposit or invoice being paid."""
        amount, currency = price
        manual = request.capture_mode is CaptureMode.MANUAL
        intent_data: stripe.params.checkout.SessionCreateParamsPaymentIntentData = {
            "description": request.description,
            "metadata": metadata,
        }
        if manual:
            intent_data["capture_method"] = "manual"
        if request.application_fee is not None and request.application_fee.is_positive:
            intent_data["application_fee_amount"] = self._amount(request.application_fee)[0]
        params: stripe.params.checkout.SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount,
                        "product_data": {"name": request.description},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": return_url,
            "cancel_url": return_url,
            "client_reference_id": request.payment_id,
            # capture_method tells a completed-but-unpaid Session (card held) from a bank debit.
            "metadata": {**metadata, "capture_method": "manual" if manual else "automatic"},
            "payment_intent_data": intent_data,
        }
        if request.customer_email is not None:
            params["customer_email"] = request.customer_email.value
        methods = _methods(request, currency)
        if methods:
            params["allowed_payment_method_types"] = methods
        options = self._options(request.idempotency_key)
        session = self._call(lambda: self._client.v1.checkout.sessions.create(params, options))
        return PaymentSession(self.name, session.id, redirect_url=session.url)

    def _intent_of(self, provider_payment_id: str, action: str) -> tuple[str, str | None]:
        """The PaymentIntent behind our reference, and our payment id when the lookup gave it."""
        if not provider_payment_id.startswith("cs_"):
            return provider_payment_id, None
        return self._intent_in(self._session(provider_payment_id), action)

    def _intent_in(self, session: stripe.checkout.Session, action: str) -> tuple[str, str | None]:
        intent = session.payment_intent
        if intent is None:
            raise ProviderRejected(
                self.name,
                f"cannot {action}: checkout {session.id} has no payment yet",
                provider_code="payment_intent_unexpected_state",
            )
        intent_id = intent if isinstance(intent, str) else intent.id
        metadata = session.metadata
        payment_id = metadata["payment_id"] if metadata and "payment_id" in metadata else None
        return intent_id, payment_id

    def _session(self, session_id: str) -> stripe.checkout.Session:
        sessions = self._client.v1.checkout.sessions
        return self._call(lambda: sessions.retrieve(session_id, None, self._options()))

    def _amount(self, money: Money) -> tuple[int, str]:
        try:
            return to_stripe(money)
        except InvalidMoney as error:
            raise ProviderRejected(self.name, str(error), provider_code="amount_invalid") from error


def _methods(request: PaymentRequest, currency: str) -> list[Any] | None:
    """Cards and MobilePay when the school offers MobilePay and Stripe takes it in this
    currency; None: the methods enabled in the Stripe Dashboard, as before."""
    if request.offer_mobilepay and currency in MOBILEPAY_CURRENCIES:
        return ["card", "mobilepay"]
    return None

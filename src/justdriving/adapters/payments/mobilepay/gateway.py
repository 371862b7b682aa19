"""Vipps MobilePay behind the PaymentGateway port: the ePayment API over REST (httpx, no SDK).

How the port's verbs land on ePayment:
- start: `POST /epayment/v1/payments` (Idempotency-Key) for a WALLET payment. With a return URL
  the payer is sent to Vipps MobilePay's landing page (WEB_REDIRECT, the phone number filled in
  when we know it); without one, a push message goes to the student's phone (PUSH_MESSAGE).
  The `reference` names the payment from then on (see mobilepay/reference.py for what it holds).
- The payer approves in the MobilePay (or Vipps) app: the payment is AUTHORIZED and nothing has
  moved yet. For a hold (manual capture) that is the end of it until `capture`; any other payment
  is read as APPROVED, and the relay calls `complete`, which captures it in full. ePayment
  cancels an authorization nobody captures: after 14 days in Denmark and Finland, 180 in Norway.
- capture: `POST …/{reference}/capture` with `modificationAmount` (partial captures allowed,
  never above what is authorized: Vipps MobilePay refuses it).
- cancel: `POST …/{reference}/cancel`: a payment not yet approved is TERMINATED, an authorized one
  CANCELLED; one with money captured cannot be cancelled (refund it).
- refund: `POST …/{reference}/refund` with `modificationAmount`, at most what was captured; it is
  done when the API answers (no refund is pending afterwards). Its Idempotency-Key carries our
  refund id, which its REFUNDED webhook brings back.
MobilePay keeps no card on file for ePayment; the cards-on-file verbs speak its Recurring API
(agreements the student approves in the app, then charges we create): see mobilepay/recurring.py.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
from attrs import evolve

from justdriving.adapters.payments.mobilepay import reference as refs
from justdriving.adapters.payments.mobilepay import signature, webhooks
from justdriving.adapters.payments.mobilepay.api import Credentials, MobilePayApi
from justdriving.adapters.payments.mobilepay.recurring import (
    RECURRING_CURRENCIES,
    MobilePayRecurring,
)
from justdriving.adapters.payments.webhook_heads import READ_ERRORS
from justdriving.domain.errors import (
    CapabilityNotSupported,
    ConfigurationError,
    InvalidInput,
    MalformedWebhook,
    ProviderRejected,
    ProviderUnavailable,
    UnusableWebhook,
)
from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest, PaymentSession, RefundRequest, RefundResult
from justdriving.ports.webhooks import WebhookHead

TEST_API = "https://apitest.vipps.no"
LIVE_API = "https://api.vipps.no"
PAYMENTS = "/epayment/v1/payments"
MAX_DESCRIPTION = 100
_FINISHED = frozenset({"ABORTED", "EXPIRED", "TERMINATED"})


class MobilePayGateway(MobilePayRecurring):
    """The PaymentGateway port over Vipps MobilePay's ePayment API (module docstring) and, for
    charges on file, its Recurring API (recurring.py)."""

    account: str | None = None  # the platform's sales unit; no connected accounts here

    def __init__(
        self,
        credentials: Credentials,
        webhook_secret: str,
        webhook_url: str,
        *,
        api_base: str = TEST_API,
        name: str = "mobilepay",
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        agreement_currency: str = "DKK",
        agreement_max_amount: int = 500_000,
        product_name: str = "Driving school fees",
    ) -> None:
        if agreement_currency not in RECURRING_CURRENCIES or agreement_max_amount < 100:
            raise ConfigurationError(
                "a MobilePay agreement is in NOK, DKK or EUR, for at least 100 minor units"
            )
        self.agreement_currency = agreement_currency
        self.agreement_max_amount = agreement_max_amount
        self.product_name = product_name
        missing = [
            setting
            for setting, value in (
                ("MOBILEPAY_CLIENT_ID", credentials.client_id),
                ("MOBILEPAY_CLIENT_SECRET", credentials.client_secret),
                ("MOBILEPAY_SUBSCRIPTION_KEY", credentials.subscription_key),
                ("MOBILEPAY_MERCHANT_SERIAL_NUMBER", credentials.merchant_serial_number),
                ("MOBILEPAY_WEBHOOK_SECRET", webhook_secret),
                ("PUBLIC_BASE_URL", webhook_url),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError("Vipps MobilePay is not fully configured", missing)
        self.name = name
        self.msn = credentials.merchant_serial_number
        self.webhook_url = webhook_url
        self._endpoint = signature.Endpoint.of(webhook_url, webhook_secret)
        self._api = MobilePayApi(
            credentials, api_base=api_base, provider=name, http=http, monotonic=monotonic
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MobilePayGateway(name={self.name!r}, msn={self.msn!r}, api={self._api!r})"

    def close(self) -> None:
        self._api.close()

    # The port.

    def start(self, request: PaymentRequest) -> PaymentSession:
        amount = request.amount
        if amount.currency not in webhooks.CURRENCIES or not amount.is_positive:
            raise ProviderRejected(
                self.name,
                f"MobilePay takes a positive amount in {', '.join(sorted(webhooks.CURRENCIES))}",
                provider_code="amount_invalid",
            )
        manual = request.capture_mode is CaptureMode.MANUAL
        reference = refs.payment_reference(
            request.payment_id, manual, request.idempotency_key, self.name
        )
        body: dict[str, Any] = {
            "amount": {"currency": amount.currency, "value": amount.amount},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "paymentDescription": _description(request.description),
        }
        phone = request.customer_phone.e164.lstrip("+") if request.customer_phone else None
        if phone:
            body["customer"] = {"phoneNumber": phone}
        if request.return_url:
            body["userFlow"] = "WEB_REDIRECT"
            body["returnUrl"] = request.return_url
        elif phone:
            body["userFlow"] = "PUSH_MESSAGE"
        else:
            raise ProviderRejected(
                self.name,
                "MobilePay needs a return URL or the payer's phone number",
                provider_code="no_user_flow",
            )
        created = self._api.call(
            "POST",
            PAYMENTS,
            body=body,
            idempotency_key=refs.operation_key(request.idempotency_key, "create"),
        )
        redirect = created.get("redirectUrl")
        if created.get("reference", reference) != reference:
            raise ProviderUnavailable(self.name, "MobilePay answered for another reference")
        return PaymentSession(
            provider=self.name,
            provider_payment_id=reference,
            redirect_url=redirect if isinstance(redirect, str) and redirect else None,
        )

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """After AUTHORIZED: capture the whole of a payment that is not a hold. Idempotent by
        key; a payment already captured, or ended, needs nothing."""
        if refs.is_manual(provider_payment_id):
            return
        payment = self._payment(provider_payment_id)
        state = payment.get("state")
        if state == "CREATED":
            raise ProviderUnavailable(
                self.name, f"{provider_payment_id} is not approved yet", provider_code="CREATED"
            )
        if state != "AUTHORIZED":
            return
        aggregate = _object(payment, "aggregate")
        authorized = self._amount(_object(aggregate, "authorizedAmount"))
        captured = self._amount(_object(aggregate, "capturedAmount"), authorized.currency)
        cancelled = self._amount(_object(aggregate, "cancelledAmount"), authorized.currency)
        if captured.is_positive or cancelled.is_positive:
            return
        self._modify(provider_payment_id, "capture", authorized, idempotency_key)

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None:
        self._modify(provider_payment_id, "capture", amount, idempotency_key)

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None:
        payment = self._payment(provider_payment_id)
        state = payment.get("state")
        captured = _object(_object(payment, "aggregate"), "capturedAmount")
        if captured.get("value"):
            raise ProviderRejected(
                self.name,
                f"{provider_payment_id} is captured; refund it instead",
                provider_code="ALREADY_CAPTURED",
            )
        if state in _FINISHED or _object(_object(payment, "aggregate"), "cancelledAmount").get(
            "value"
        ):
            return
        self._api.call(
            "POST",
            f"{self._path(provider_payment_id)}/cancel",
            body={},
            idempotency_key=refs.operation_key(idempotency_key, "cancel"),
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        key = refs.refund_key(request.refund_id, request.idempotency_key, self.name)
        answer = self._api.call(
            "POST",
            f"{self._path(request.provider_payment_id)}/refund",
            body={"modificationAmount": self._wire(request.amount)},
            idempotency_key=key,
        )
        psp = answer.get("pspReference")
        if not isinstance(psp, str) or not psp:
            raise ProviderUnavailable(self.name, "MobilePay refunded without a pspReference")
        return RefundResult(provider_refund_id=psp, status=RefundStatus.SUCCEEDED)

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]:
        """Verify the HMAC on the raw bytes, then translate (webhooks.py)."""
        if now.utcoffset() is None:
            raise InvalidInput("now must be timezone-aware")
        signature.verify(body, headers, self._endpoint, now)
        return self.read_webhook(body)

    def admit_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> WebhookHead:
        if now.utcoffset() is None:
            raise InvalidInput("now must be timezone-aware")
        signature.verify(body, headers, self._endpoint, now)
        return webhooks.event_head(body)

    def read_webhook(self, body: bytes) -> list[ProviderPaymentEvent]:
        try:
            event = webhooks.parse_event(body, self.name, self.msn)
            if event.provider_setup_id and event.customer_id is None:
                # An agreement's event without its externalId: ask for the agreement. If Vipps
                # MobilePay cannot answer now, the event is kept without a customer (and
                # ignored) rather than failing the delivery.
                with contextlib.suppress(ProviderUnavailable, ConfigurationError):
                    event = evolve(
                        event, customer_id=self.customer_of_agreement(event.provider_setup_id)
                    )
            return [event]
        except MalformedWebhook as error:  # signed, but not an event we can read
            raise UnusableWebhook(str(error)) from None
        except READ_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None

    def on_account(self, account_id: str) -> NoReturn:
        """Vipps MobilePay has no connected accounts of ours: a school with its own sales unit
        is its own credentials."""
        raise CapabilityNotSupported(self.name, "take payments for a connected account")

    # Mechanics.

    def _modify(self, reference: str, action: str, amount: Money, key: str) -> None:
        self._api.call(
            "POST",
            f"{self._path(reference)}/{action}",
            body={"modificationAmount": self._wire(amount)},
            idempotency_key=refs.operation_key(key, action),
        )

    def _payment(self, reference: str) -> dict[str, Any]:
        return self._api.call("GET", self._path(reference))

    def _path(self, reference: str) -> str:
        if not refs.is_reference(reference):
            raise ProviderRejected(
                self.name, "not a MobilePay payment reference", provider_code="reference_invalid"
            )
        return f"{PAYMENTS}/{quote(reference, safe='')}"

    def _wire(self, amount: Money) -> dict[str, Any]:
        if amount.currency not in webhooks.CURRENCIES or not amount.is_positive:
            raise ProviderRejected(
                self.name, f"cannot move {amount} with MobilePay", provider_code="amount_invalid"
            )
        return {"currency": amount.currency, "value": amount.amount}

    def _amount(self, value: Mapping[str, Any], currency: str | None = None) -> Money:
        minor, code = value.get("value", 0), value.get("currency", currency)
        if type(minor) is not int or not isinstance(code, str) or code not in webhooks.CURRENCIES:
            raise ProviderUnavailable(self.name, "MobilePay sent an unreadable amount")
        return Money(minor, code)


def _object(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _description(text: str) -> str:
    """What the app shows the payer: ePayment takes 3 to 100 characters."""
    text = text.strip()
    return (text if len(text) >= 3 else f"Payment {text}".strip())[:MAX_DESCRIPTION]

"""PayPal behind the PaymentGateway port: Orders v2 and Payments v2 over REST (httpx, no SDK).

How the port's verbs land on PayPal:
- start: create an order (intent CAPTURE, or AUTHORIZE for a manual capture) and hand the payer
  its `payer-action`/`approve` link. Our payment id travels as the purchase unit's custom_id.
- Approval: PayPal then sends CHECKOUT.ORDER.APPROVED, read as APPROVED because nothing has
  moved yet: the merchant must capture (or authorize) the approved order within hours, or
  PayPal reverses the approval. The relay calls `complete` for it, from the outbox.
- capture: an AUTHORIZE order is authorized first if it is only approved, then its authorization
  is captured (never above what it holds, although PayPal would take up to 115 %). A CAPTURE
  order is captured in full.
- cancel: voids the authorization. An order without one has moved no money and PayPal has no
  call to cancel it (it expires), so there is nothing to do. A captured order cannot be cancelled.
- refund: refunds the order's capture, found through GET /v2/checkout/orders/{id} (and kept in
  memory afterwards), with our refund id as invoice_id and our payment id as custom_id.
Every call that moves money carries PayPal-Request-Id (derived from our idempotency key), so a
retry gets PayPal's first answer back instead of a second order, capture or refund.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from justdriving.adapters.payments.no_cards import NoCardsOnFile
from justdriving.adapters.payments.paypal import orders
from justdriving.adapters.payments.paypal.api import PayPalApi
from justdriving.adapters.payments.paypal.deliveries import PayPalDeliveries
from justdriving.adapters.payments.paypal.money import paypal_amount
from justdriving.domain.errors import (
    ConfigurationError,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.money import Money
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest, PaymentSession, RefundRequest, RefundResult

SANDBOX_API = "https://api-m.sandbox.paypal.com"
LIVE_API = "https://api-m.paypal.com"
MAX_REQUEST_ID = 108  # PayPal-Request-Id: 1 to 108 characters


def request_id(key: str, step: str = "") -> str:
    """The PayPal-Request-Id for our idempotency key (and a sub-step): stable across retries."""
    value = f"{key}:{step}" if step else key
    if not value or len(value) > MAX_REQUEST_ID:
        return hashlib.sha256(value.encode()).hexdigest()
    return value


class PayPalGateway(PayPalDeliveries, NoCardsOnFile):
    """The PaymentGateway port over PayPal's REST API. See the module docstring for the mapping;
    the webhook verbs come from PayPalDeliveries (deliveries.py)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        *,
        api_base: str = SANDBOX_API,
        name: str = "paypal",
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        missing = [
            setting
            for setting, value in (
                ("PAYMENT_PROVIDER_KEY", client_id),
                ("PAYMENT_PROVIDER_SECRET", client_secret),
                ("PAYMENT_WEBHOOK_SECRET", webhook_id),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError("PayPal needs a client id, a secret and a webhook id", missing)
        self.name = name
        self.webhook_id = webhook_id
        self._api = PayPalApi(
            client_id,
            client_secret,
            api_base=api_base,
            provider=name,
            http=http,
            monotonic=monotonic,
        )
        self._captures: dict[
            str, tuple[str, str | None]
        ] = {}  # order id -> (capture id, custom_id)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PayPalGateway(name={self.name!r}, api={self._api!r})"

    def close(self) -> None:
        """Close the HTTP client this gateway made (not one it was given)."""
        self._api.close()

    # The port.

    def start(self, request: PaymentRequest) -> PaymentSession:
        order = self._api.call(
            "POST",
            "/v2/checkout/orders",
            body=orders.order_body(request, self.name),
            request_id=request_id(request.idempotency_key),
        )
        link = orders.link(order, "payer-action") or orders.link(order, "approve")
        if link is None:
            raise ProviderRejected(
                self.name,
                "PayPal created the order without a link for the payer",
                provider_code="NO_PAYER_LINK",
            )
        return PaymentSession(
            provider=self.name,
            provider_payment_id=orders.resource_id(order, self.name),
            redirect_url=link,
        )

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None:
        order = self._order(provider_payment_id)
        if order.get("intent") == "AUTHORIZE":
            authorization = self._authorization(order, idempotency_key)
            held = orders.amount_of(authorization, self.name)
            if amount.currency != held.currency or not amount.is_positive or amount > held:
                raise ProviderRejected(
                    self.name,
                    f"cannot capture {amount} of the {held} held",
                    provider_code="CAPTURE_AMOUNT_EXCEEDS_AUTHORIZATION",
                )
            authorization_id = orders.resource_id(authorization, self.name)
            capture = self._api.call(
                "POST",
                f"/v2/payments/authorizations/{authorization_id}/capture",
                body={"amount": paypal_amount(amount, self.name), "final_capture": True},
                request_id=request_id(idempotency_key),
            )
        else:
            ordered = orders.amount_of(orders.first_unit(order), self.name)
            if amount != ordered:
                raise ProviderRejected(
                    self.name,
                    f"a PayPal order is captured in full ({ordered}), not {amount}",
                    provider_code="AMOUNT_MISMATCH",
                )
            captured = self._api.call(
                "POST",
                f"/v2/checkout/orders/{provider_payment_id}/capture",
                body={},
                request_id=request_id(idempotency_key),
            )
            capture = orders.last_capture(captured, self.name)
        self._check_capture(provider_payment_id, capture)

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """After CHECKOUT.ORDER.APPROVED: capture a CAPTURE order, authorize an AUTHORIZE one.

        PayPal, unlike Stripe, moves no money until the merchant acts on the approval.
        Idempotent by key; a second call for a done order does nothing."""
        order = self._order(provider_payment_id)
        if order.get("intent") == "AUTHORIZE":
            self._authorization(order, idempotency_key)
        elif not orders.payments(order, "captures"):
            captured = self._api.call(
                "POST",
                f"/v2/checkout/orders/{provider_payment_id}/capture",
                body={},
                request_id=request_id(idempotency_key),
            )
            self._check_capture(provider_payment_id, orders.last_capture(captured, self.name))

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None:
        order = self._order(provider_payment_id)
        if any(c.get("status") in orders.PAID for c in orders.payments(order, "captures")):
            raise ProviderRejected(
                self.name,
                f"order {provider_payment_id} is captured; refund it instead",
                provider_code="ORDER_ALREADY_CAPTURED",
            )
        open_ = [
            a for a in orders.payments(order, "authorizations") if a.get("status") == "CREATED"
        ]
        for index, authorization in enumerate(open_):
            self._api.call(
                "POST",
                f"/v2/payments/authorizations/{orders.resource_id(authorization, self.name)}/void",
                body={},
                request_id=request_id(idempotency_key, str(index) if index else ""),
            )

    def refund(self, request: RefundRequest) -> RefundResult:
        capture_id, custom_id = self._capture_of(request.provider_payment_id)
        body: dict[str, Any] = {
            "amount": paypal_amount(request.amount, self.name),
            "invoice_id": request.refund_id,
            "note_to_payer": request.reason[:255],
        }
        if custom_id:
            body["custom_id"] = custom_id
        refund = self._api.call(
            "POST",
            f"/v2/payments/captures/{capture_id}/refund",
            body=body,
            request_id=request_id(request.idempotency_key),
        )
        status = orders.REFUND_STATUS.get(str(refund.get("status")), RefundStatus.PENDING)
        return RefundResult(provider_refund_id=orders.resource_id(refund, self.name), status=status)

    # Mechanics.

    def _order(self, order_id: str) -> dict[str, Any]:
        return self._api.call("GET", f"/v2/checkout/orders/{order_id}")

    def _authorization(self, order: dict[str, Any], key: str) -> dict[str, Any]:
        """The order's authorization, made now (keyed) when the order is only approved."""
        authorizations = orders.payments(order, "authorizations")
        if not authorizations:
            authorized = self._api.call(
                "POST",
                f"/v2/checkout/orders/{orders.resource_id(order, self.name)}/authorize",
                body={},
                request_id=request_id(key, "authorize"),
            )
            authorizations = orders.payments(authorized, "authorizations")
        if not authorizations:
            raise ProviderUnavailable(self.name, "PayPal authorized without an authorization")
        return authorizations[-1]

    def _check_capture(self, order_id: str, capture: dict[str, Any]) -> None:
        status = capture.get("status")
        if status in ("DECLINED", "FAILED"):
            details = capture.get("status_details")
            reason = (details.get("reason") if isinstance(details, dict) else None) or status
            raise PaymentDeclined(self.name, f"PayPal {status} the capture", provider_code=reason)
        if status in orders.REFUNDABLE:
            with self._lock:
                self._captures[order_id] = (
                    orders.resource_id(capture, self.name),
                    capture.get("custom_id"),
                )

    def _capture_of(self, order_id: str) -> tuple[str, str | None]:
        with self._lock:
            known = self._captures.get(order_id)
        if known is not None:
            return known
        order = self._order(order_id)
        captures = [
            c for c in orders.payments(order, "captures") if c.get("status") in orders.REFUNDABLE
        ]
        if not captures:
            raise ProviderRejected(
                self.name,
                f"order {order_id} has no capture to refund",
                provider_code="NOT_CAPTURED",
            )
        found = (
            orders.resource_id(captures[0], self.name),
            captures[0].get("custom_id") or orders.first_unit(order).get("custom_id"),
        )
        with self._lock:
            self._captures[order_id] = found
        return found

"""Payment gateway port: start, capture, cancel and refund payments; verify and parse webhooks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from attrs import field, frozen

from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import CaptureMode
from justdriving.domain.people import EmailAddress
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import School


@frozen
class PaymentRequest:
    """Everything a gateway needs to start collecting `amount` for our payment `payment_id`."""

    payment_id: str
    school_id: str
    amount: Money
    description: str
    idempotency_key: str
    capture_mode: CaptureMode = CaptureMode.AUTOMATIC
    customer_email: EmailAddress | None = None
    return_url: str | None = None
    metadata: Mapping[str, str] = field(factory=dict)


@frozen
class PaymentSession:
    """What the front end needs: a client secret (embedded form) and/or a redirect URL."""

    provider: str
    provider_payment_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_url: str | None = None


@frozen
class RefundRequest:
    refund_id: str
    provider_payment_id: str
    amount: Money
    reason: str
    idempotency_key: str
    payment_id: str | None = None  # ours, for the provider's metadata


@frozen
class RefundResult:
    provider_refund_id: str
    status: RefundStatus


class PaymentGateway(Protocol):
    """One payment provider.

    Contract:
    - Calls that create or change money take an idempotency key; the same key with the same
      arguments returns the same result and never charges or refunds twice.
    - Raises PaymentDeclined (payer's bank said no, `provider_code` = decline code),
      ProviderUnavailable (timeout, 5xx, 429: retryable), ProviderRejected (invalid request),
      ConfigurationError (bad credentials). No provider SDK type or error escapes.
    - `parse_webhook` verifies the signature on the exact raw bytes (constant-time) and returns
      provider-neutral events, or raises InvalidSignature / MalformedWebhook. Event types it
      does not handle come back with kind UNKNOWN.
    """

    name: str

    def start(self, request: PaymentRequest) -> PaymentSession: ...

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """Finish a payment the payer approved at the provider, after its APPROVED event
        (PayPal: capture the order, or authorize it when it is a hold). Providers whose
        payments finish by themselves (Stripe) do nothing. Idempotent by key."""
        ...

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None: ...

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]: ...


class GatewayRegistry(Protocol):
    """Resolves a school's gateway; raises PaymentNotAllowed for a manual-only school and
    ConfigurationError for a gateway that is not configured here."""

    def for_school(self, school: School) -> PaymentGateway: ...

    def by_name(self, name: str) -> PaymentGateway: ...

"""A payment gateway that keeps its charges in memory, and a registry of gateways by name."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

from justdriving.adapters.clock import SystemClock
from justdriving.adapters.memory import fake_webhooks
from justdriving.adapters.memory.cards_on_file import FakeCardsOnFile
from justdriving.adapters.memory.charges import FakeCharge, FakeRefund
from justdriving.adapters.memory.connected_accounts import FakeConnect
from justdriving.adapters.memory.failures import FailureQueue
from justdriving.adapters.memory.payer_side import FakePayerSide
from justdriving.adapters.payments.webhook_heads import READ_ERRORS, json_head
from justdriving.domain.errors import (
    MalformedWebhook,
    PaymentDeclined,
    ProviderRejected,
    UnusableWebhook,
)
from justdriving.domain.money import Money
from justdriving.domain.payment_events import ProviderPaymentEvent
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.clock import Clock
from justdriving.ports.payments import (
    PaymentRequest,
    PaymentSession,
    RefundRequest,
    RefundResult,
)
from justdriving.ports.webhooks import WebhookHead

__all__ = ["FakeCharge", "FakePaymentGateway", "FakeRefund"]

R = TypeVar("R")
_FINISHED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED})


class FakePaymentGateway(FakePayerSide, FakeCardsOnFile, FakeConnect):
    """A real gateway in memory: idempotent by key, never refunds above what was captured.

    Tests drive the payer's side with `succeed`, `authorize`, `require_action`, `fail` and
    `complete_refund`, each returning the signed webhook `(body, headers)` the provider would
    send; `fail_next` and `decline_next` make the next call raise.
    """

    def __init__(
        self,
        name: str = "fake",
        webhook_secret: str = "whsec_fake",  # noqa: S107 - a fake's default, never a real one
        *,
        clock: Clock | None = None,
        refund_status: RefundStatus = RefundStatus.SUCCEEDED,
    ) -> None:
        self.name, self.webhook_secret = name, webhook_secret
        self.clock: Clock = clock or SystemClock()
        self.refund_status = refund_status
        self.charges: dict[str, FakeCharge] = {}
        self.refunds: dict[str, FakeRefund] = {}
        self.calls: list[tuple[str, str]] = []
        self._failures = FailureQueue()
        self._replies: dict[str, tuple[object, Any]] = {}
        self._lock = threading.RLock()
        self._init_cards()
        self._init_connect()

    def _fresh_books(self) -> None:
        self.charges, self.refunds, self._replies = {}, {}, {}
        self._init_cards()

    def fail_next(self, error: Exception) -> None:
        self._failures.push(error)

    def decline_next(self, code: str = "card_declined") -> None:
        self._failures.push(PaymentDeclined(self.name, "the card was declined", provider_code=code))

    # The port.

    def start(self, request: PaymentRequest) -> PaymentSession:
        return self._once("start", request.idempotency_key, request, lambda: self._start(request))

    def capture(self, provider_payment_id: str, amount: Money, idempotency_key: str) -> None:
        args = (provider_payment_id, amount)
        self._once("capture", idempotency_key, args, lambda: self._capture(*args))

    def complete(self, provider_payment_id: str, idempotency_key: str) -> None:
        """The fake's payments finish when the payer acts, as Stripe's do: nothing to do."""
        self.calls.append(("complete", idempotency_key))

    def cancel(self, provider_payment_id: str, idempotency_key: str) -> None:
        self._once(
            "cancel",
            idempotency_key,
            provider_payment_id,
            lambda: self._cancel(provider_payment_id),
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        return self._once("refund", request.idempotency_key, request, lambda: self._refund(request))

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> list[ProviderPaymentEvent]:
        fake_webhooks.verify(body, headers, self.webhook_secret, now)
        return self.read_webhook(body)

    def admit_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> WebhookHead:
        fake_webhooks.verify(body, headers, self.webhook_secret, now)
        return json_head(body, "id", "type")

    def read_webhook(self, body: bytes) -> list[ProviderPaymentEvent]:
        try:
            return [fake_webhooks.parse(body, self.name)]
        except MalformedWebhook as error:  # signed, but not an event we can read
            raise UnusableWebhook(str(error)) from None
        except READ_ERRORS as error:
            raise UnusableWebhook(f"the event cannot be read: {type(error).__name__}") from None

    # Mechanics.

    def _once(self, operation: str, key: str, args: object, work: Callable[[], R]) -> R:
        """Do `work` once per idempotency key, also for calls at the same moment; the same key
        with other arguments is refused."""
        with self._lock:
            return self._once_locked(operation, key, args, work)

    def _once_locked(self, operation: str, key: str, args: object, work: Callable[[], R]) -> R:
        self.calls.append((operation, key))
        late = self._failures.take()
        fingerprint = (operation, args)
        if key in self._replies:
            if self._replies[key][0] != fingerprint:
                raise ProviderRejected(
                    self.name,
                    "idempotency key reused with different parameters",
                    provider_code="idempotency_key_in_use",
                )
            result = cast(R, self._replies[key][1])
        else:
            result = work()
            self._replies[key] = (fingerprint, result)
        if late is not None:
            raise late
        return result

    def _start(self, request: PaymentRequest) -> PaymentSession:
        if not request.amount.is_positive:
            raise ProviderRejected(self.name, "amount must be positive", provider_code="amount")
        self._check_fee(request.application_fee, request.amount)
        ref = f"fake_pi_{uuid.uuid4().hex[:24]}"
        metadata = {**request.metadata, "payment_id": request.payment_id}
        metadata["school_id"] = request.school_id
        self.charges[ref] = FakeCharge(
            ref,
            request.payment_id,
            request.amount,
            request.capture_mode,
            metadata,
            application_fee=request.application_fee,
        )
        return PaymentSession(
            provider=self.name,
            provider_payment_id=ref,
            client_secret=f"{ref}_secret_{secrets.token_hex(12)}",
            redirect_url=f"/dev/checkout/{ref}",
        )

    def _capture(self, provider_payment_id: str, amount: Money) -> None:
        charge = self._charge(provider_payment_id)
        if charge.status is not PaymentStatus.AUTHORIZED or charge.authorized is None:
            raise self._unexpected(charge, "capture")
        if amount.currency != charge.amount.currency or not amount.is_positive:
            raise ProviderRejected(self.name, f"cannot capture {amount}", provider_code="amount")
        if amount > charge.authorized:
            raise ProviderRejected(
                self.name, f"{amount} is above the {charge.authorized} held", provider_code="amount"
            )
        charge.status, charge.captured = PaymentStatus.SUCCEEDED, amount

    def _cancel(self, provider_payment_id: str) -> None:
        charge = self._charge(provider_payment_id)
        if charge.status in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED):
            raise self._unexpected(charge, "cancel")
        charge.status = PaymentStatus.CANCELED

    def _refund(self, request: RefundRequest) -> RefundResult:
        charge = self._charge(request.provider_payment_id)
        if charge.status is not PaymentStatus.SUCCEEDED:
            raise self._unexpected(charge, "refund")
        refundable = charge.captured - charge.refunded
        if request.amount.currency != refundable.currency or not request.amount.is_positive:
            raise ProviderRejected(
                self.name, f"cannot refund {request.amount}", provider_code="amount"
            )
        if request.amount > refundable:
            raise ProviderRejected(
                self.name,
                f"{request.amount} is above the {refundable} left to refund",
                provider_code="amount_too_large",
            )
        ref = f"fake_re_{uuid.uuid4().hex[:24]}"
        charge.refunded = charge.refunded + request.amount
        self.refunds[ref] = FakeRefund(
            ref,
            request.refund_id,
            charge.provider_payment_id,
            request.amount,
            request.reason,
            self.refund_status,
        )
        return RefundResult(provider_refund_id=ref, status=self.refund_status)

    def _charge(self, provider_payment_id: str) -> FakeCharge:
        charge = self.charges.get(provider_payment_id)
        if charge is None:
            raise ProviderRejected(
                self.name, f"no payment {provider_payment_id}", provider_code="resource_missing"
            )
        return charge

    def restore(self, charge: FakeCharge) -> None:
        """Take back a charge it made before the process restarted: this fake keeps its charges
        in memory, a real provider keeps them for good (the development checkout page uses it
        for a payment `justdriving run` started before a restart)."""
        with self._lock:
            self.charges.setdefault(charge.provider_payment_id, charge)

    def is_payable(self, provider_payment_id: str) -> bool:
        """Whether a payer could still pay it: not paid, captured or canceled yet. (`succeed`
        and the others make the provider's events in any order a test needs, so they do not
        ask; the development checkout page does.)"""
        charge = self.charges.get(provider_payment_id)
        return charge is not None and charge.status not in _FINISHED

    def _unexpected(self, charge: FakeCharge, action: str) -> ProviderRejected:
        return ProviderRejected(
            self.name,
            f"cannot {action} a payment that is {charge.status}",
            provider_code="payment_intent_unexpected_state",
        )

"""The fake gateway's payer's and provider's side: the signed webhooks a provider would send
when a payer pays, is asked to authenticate or declined, and when a refund ends at the bank
(for tests and the development checkout page)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from justdriving.adapters.memory import fake_webhooks
from justdriving.adapters.memory.charges import FakeCharge, FakeRefund
from justdriving.adapters.memory.fake_webhooks import WebhookDelivery, amount_data
from justdriving.domain.errors import (
    InvalidTransition,
    ProviderRejected,
)
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.clock import Clock


class FakePayerSide:
    """Mixed into FakePaymentGateway: each verb moves a charge (or a refund) as the payer or the
    bank would, and returns the signed webhook `(body, headers)` the provider would send."""

    name: str
    webhook_secret: str
    clock: Clock
    refunds: dict[str, FakeRefund]
    account: str | None
    _charge: Callable[[str], FakeCharge]  # the gateway's: the charge, or ProviderRejected

    def succeed(self, provider_payment_id: str, amount: Money | None = None) -> WebhookDelivery:
        """The payment went through for `amount` (the full amount unless told otherwise)."""
        charge = self._charge(provider_payment_id)
        charge.status, charge.captured = (
            PaymentStatus.SUCCEEDED,
            charge.amount if amount is None else amount,
        )
        return self._charge_event(PaymentEventKind.SUCCEEDED, charge, amount=charge.captured)

    def authorize(self, provider_payment_id: str, amount: Money | None = None) -> WebhookDelivery:
        """The card is held for `amount`, waiting for `capture`."""
        charge = self._charge(provider_payment_id)
        charge.status, charge.authorized = (
            PaymentStatus.AUTHORIZED,
            charge.amount if amount is None else amount,
        )
        return self._charge_event(PaymentEventKind.AUTHORIZED, charge, amount=charge.authorized)

    def require_action(self, provider_payment_id: str) -> WebhookDelivery:
        """The payer must authenticate (3-D Secure) before anything happens."""
        charge = self._charge(provider_payment_id)
        charge.status = PaymentStatus.REQUIRES_ACTION
        return self._charge_event(PaymentEventKind.REQUIRES_ACTION, charge)

    def fail(self, provider_payment_id: str, code: str = "card_declined") -> WebhookDelivery:
        charge = self._charge(provider_payment_id)
        charge.status = PaymentStatus.FAILED
        return self._charge_event(PaymentEventKind.FAILED, charge, failure_code=code)

    def complete_refund(self, provider_refund_id: str, succeeded: bool = True) -> WebhookDelivery:
        """A refund ended at the bank: money returned, or (succeeded=False) released again."""
        refund = self.refunds.get(provider_refund_id)
        if refund is None:
            raise ProviderRejected(self.name, f"no refund {provider_refund_id}")
        if succeeded and refund.status is RefundStatus.FAILED:
            raise InvalidTransition("refund", refund.status, "complete")
        charge = self._charge(refund.provider_payment_id)
        if not succeeded and refund.status is not RefundStatus.FAILED:
            charge.refunded = charge.refunded - refund.amount
        refund.status = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
        kind = PaymentEventKind.REFUND_SUCCEEDED if succeeded else PaymentEventKind.REFUND_FAILED
        data = self._charge_data(charge) | {
            "refund_id": refund.refund_id,
            "provider_refund_id": refund.provider_refund_id,
            "amount": amount_data(refund.amount),
        }
        return self.webhook(kind.value, data)

    def webhook(self, event_type: str, data: Mapping[str, Any]) -> WebhookDelivery:
        """Any event, signed now with this gateway's secret; about the account it acts on."""
        return self._event_on(event_type, data, self.account)

    def _event_on(
        self, event_type: str, data: Mapping[str, Any], account: str | None
    ) -> WebhookDelivery:
        now = self.clock.now()
        body = fake_webhooks.encode(f"evt_{uuid.uuid4().hex}", event_type, now, data, account)
        return body, self.sign(body, now)

    def sign(self, body: bytes, at: datetime, secret: str | None = None) -> dict[str, str]:
        return fake_webhooks.sign(body, secret or self.webhook_secret, at)

    def _charge_data(self, charge: FakeCharge) -> dict[str, Any]:
        return {"payment_id": charge.payment_id, "provider_payment_id": charge.provider_payment_id}

    def _charge_event(
        self,
        kind: PaymentEventKind,
        charge: FakeCharge,
        *,
        amount: Money | None = None,
        failure_code: str | None = None,
    ) -> WebhookDelivery:
        data = self._charge_data(charge)
        if amount is not None:
            data["amount"] = amount_data(amount)
        if failure_code is not None:
            data["failure_code"] = failure_code
        return self.webhook(kind.value, data)

"""Provider-neutral payment events: what a verified webhook from any gateway is translated into."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen

from justdriving.domain.money import Money


class PaymentEventKind(enum.StrEnum):
    REQUIRES_ACTION = "payment.requires_action"
    APPROVED = "payment.approved"  # the payer approved; the merchant must complete (PayPal)
    PROCESSING = "payment.processing"
    AUTHORIZED = "payment.authorized"
    SUCCEEDED = "payment.succeeded"
    FAILED = "payment.failed"
    CANCELED = "payment.canceled"
    REFUND_PENDING = "refund.pending"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    REFUND_CANCELED = "refund.canceled"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_UPDATED = "dispute.updated"
    DISPUTE_CLOSED = "dispute.closed"
    # Saving a card for later (a SetupIntent at Stripe): about our customer, not a payment.
    SETUP_REQUIRES_ACTION = "setup.requires_action"
    SETUP_SUCCEEDED = "setup.succeeded"
    SETUP_FAILED = "setup.failed"
    # A school's connected account changed at the provider (Stripe Connect `account.updated`).
    ACCOUNT_UPDATED = "account.updated"
    UNKNOWN = "unknown"

    @property
    def is_refund(self) -> bool:
        return self.value.startswith("refund.")

    @property
    def is_dispute(self) -> bool:
        return self.value.startswith("dispute.")

    @property
    def is_setup(self) -> bool:
        return self.value.startswith("setup.")

    @property
    def is_account(self) -> bool:
        return self.value.startswith("account.")


@frozen
class ProviderPaymentEvent:
    """One event from a gateway. `payment_id` is ours, carried in the provider's metadata.

    `event_id` is the provider's, unique per provider: the inbox dedupes on (provider, event_id).
    `raw_type` keeps the provider's own name for logs and for events we do not handle.
    """

    provider: str
    event_id: str
    kind: PaymentEventKind
    occurred_at: datetime
    raw_type: str
    payment_id: str | None = None
    provider_payment_id: str | None = None
    amount: Money | None = None
    refund_id: str | None = None
    provider_refund_id: str | None = None
    provider_dispute_id: str | None = None
    dispute_status: str | None = None
    failure_code: str | None = None
    customer_id: str | None = None  # ours, for a setup event
    provider_setup_id: str | None = None
    provider_method_id: str | None = None
    # The connected account the event happened on (Stripe Connect); None: the platform's own.
    account: str | None = None
    # For ACCOUNT_UPDATED: what the provider now allows on the account.
    charges_enabled: bool | None = None
    details_submitted: bool | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready form, kept in the inbox so the event can be applied later without
        verifying the signature again (its timestamp will have aged by then)."""
        payload: dict[str, Any] = {
            name: getattr(self, name) for name in _TEXT_FIELDS if getattr(self, name) is not None
        }
        payload["kind"] = self.kind.value
        payload.update({n: getattr(self, n) for n in _FLAGS if getattr(self, n) is not None})
        payload["occurred_at"] = self.occurred_at.isoformat()
        if self.amount is not None:
            payload["amount"] = {"amount": self.amount.amount, "currency": self.amount.currency}
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> ProviderPaymentEvent:
        amount = payload.get("amount")
        texts: dict[str, Any] = {name: payload.get(name) for name in _TEXT_FIELDS + _FLAGS}
        return cls(
            kind=PaymentEventKind(payload["kind"]),
            occurred_at=datetime.fromisoformat(payload["occurred_at"]),
            amount=Money(amount["amount"], amount["currency"]) if amount else None,
            **texts,
        )


_TEXT_FIELDS = (
    "provider",
    "event_id",
    "raw_type",
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
    "account",
)
_FLAGS = ("charges_enabled", "details_submitted")

"""Provider-neutral payment events: what a verified webhook from any gateway is translated into."""

from __future__ import annotations

import enum
from datetime import datetime

from attrs import frozen

from justdriving.domain.money import Money


class PaymentEventKind(enum.StrEnum):
    REQUIRES_ACTION = "payment.requires_action"
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
    UNKNOWN = "unknown"

    @property
    def is_refund(self) -> bool:
        return self.value.startswith("refund.")

    @property
    def is_dispute(self) -> bool:
        return self.value.startswith("dispute.")


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

"""A payment's method, purpose and capture mode, and its forward-only status (each status's
rank, and the status each provider event kind leads to)."""

from __future__ import annotations

import enum

from justdriving.domain.payment_events import PaymentEventKind


class PaymentMethod(enum.StrEnum):
    ONLINE = "online"
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    MOBILEPAY = "mobilepay"


class PaymentPurpose(enum.StrEnum):
    INVOICE = "invoice"
    DEPOSIT = "deposit"
    PACKAGE = "package"


class CaptureMode(enum.StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"  # authorise now, capture later (a deposit hold)


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"
    PROCESSING = "processing"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    HELD_FOR_REVIEW = "held_for_review"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_final(self) -> bool:
        return self.rank == _FINAL_RANK


# A status only ever moves to a higher rank. Within the in-progress rank the newest event
# wins: a failed attempt may be retried (then succeed), a processing bank debit may fail.
_FINAL_RANK = 3
_RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.FAILED: 1,
    PaymentStatus.PROCESSING: 1,
    PaymentStatus.AUTHORIZED: 2,
    PaymentStatus.SUCCEEDED: _FINAL_RANK,
    PaymentStatus.CANCELED: _FINAL_RANK,
    PaymentStatus.HELD_FOR_REVIEW: _FINAL_RANK,
}
_STATUS_FOR = {
    PaymentEventKind.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    PaymentEventKind.APPROVED: PaymentStatus.PROCESSING,
    PaymentEventKind.FAILED: PaymentStatus.FAILED,
    PaymentEventKind.PROCESSING: PaymentStatus.PROCESSING,
    PaymentEventKind.AUTHORIZED: PaymentStatus.AUTHORIZED,
    PaymentEventKind.SUCCEEDED: PaymentStatus.SUCCEEDED,
    PaymentEventKind.CANCELED: PaymentStatus.CANCELED,
}


class EventOutcome(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # duplicate, stale or out of order: never a downgrade
    HELD = "held_for_review"

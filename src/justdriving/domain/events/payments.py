"""Events of payments and refunds."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent
from justdriving.domain.money import Money


@frozen
class PaymentSucceeded(DomainEvent):
    topic: ClassVar[str] = "payment.succeeded"

    payment_id: str
    amount: Money


@frozen
class PaymentAuthorized(DomainEvent):
    """The provider holds the money (a card hold, captured later)."""

    topic: ClassVar[str] = "payment.authorized"

    payment_id: str


@frozen
class PaymentCanceled(DomainEvent):
    """The provider let the payment go: a released hold, an abandoned checkout."""

    topic: ClassVar[str] = "payment.canceled"

    payment_id: str


@frozen
class PaymentFailed(DomainEvent):
    topic: ClassVar[str] = "payment.failed"

    payment_id: str
    reason: str | None


@frozen
class PaymentHeldForReview(DomainEvent):
    topic: ClassVar[str] = "payment.held_for_review"

    payment_id: str
    reason: str


@frozen
class PaymentOverpaid(DomainEvent):
    """More arrived than the invoice asked: the rest is held for review, never kept."""

    topic: ClassVar[str] = "payment.overpaid"

    payment_id: str
    excess: Money


@frozen
class RefundSucceeded(DomainEvent):
    topic: ClassVar[str] = "refund.succeeded"

    refund_id: str
    amount: Money


@frozen
class RefundFailed(DomainEvent):
    topic: ClassVar[str] = "refund.failed"

    refund_id: str

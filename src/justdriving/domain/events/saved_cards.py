"""Events of a student's saved card and of the charges made to it."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent


@frozen
class PaymentMethodSaved(DomainEvent):
    """A student saved a card for later charges: the provider confirmed the setup (after 3-D
    Secure where the bank asked). It names the provider's method, never the card's number."""

    topic: ClassVar[str] = "payment_method.saved"

    customer_id: str
    student_id: str
    provider: str
    provider_method_id: str


@frozen
class PaymentMethodRemoved(DomainEvent):
    topic: ClassVar[str] = "payment_method.removed"

    customer_id: str
    student_id: str
    provider_method_id: str


@frozen
class CardSetupFailed(DomainEvent):
    """Saving a card failed at the bank (declined, or 3-D Secure not completed)."""

    topic: ClassVar[str] = "payment_method.setup_failed"

    customer_id: str
    student_id: str
    failure_code: str | None


@frozen
class CustomerChargeRequiresAction(DomainEvent):
    """A charge to a saved method needs the student (the bank asked for authentication): the
    payment waits for them, and a pay link goes out."""

    topic: ClassVar[str] = "customer_charge.requires_action"

    payment_id: str
    student_id: str
    reason: str


@frozen
class CustomerChargeDeclined(DomainEvent):
    """A charge to a saved method was declined; `retryable` says whether trying the same card
    again later can succeed (insufficient funds) or not (a stolen or lost card)."""

    topic: ClassVar[str] = "customer_charge.declined"

    payment_id: str
    student_id: str
    reason: str
    decline_code: str | None
    retryable: bool

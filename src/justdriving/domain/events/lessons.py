"""Events of a lesson's booking and of the deposit held for it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent
from justdriving.domain.money import Money


@frozen
class BookingRequested(DomainEvent):
    topic: ClassVar[str] = "booking.requested"

    booking_id: str


@frozen
class BookingConfirmed(DomainEvent):
    topic: ClassVar[str] = "booking.confirmed"

    booking_id: str


@frozen
class BookingCancelled(DomainEvent):
    topic: ClassVar[str] = "booking.cancelled"

    booking_id: str
    by: str
    fee: Money | None


@frozen
class BookingRescheduled(DomainEvent):
    topic: ClassVar[str] = "booking.rescheduled"

    booking_id: str
    previous_start: datetime


@frozen
class BookingCompleted(DomainEvent):
    topic: ClassVar[str] = "booking.completed"

    booking_id: str


@frozen
class BookingMarkedNoShow(DomainEvent):
    topic: ClassVar[str] = "booking.no_show"

    booking_id: str


@frozen
class DepositSecured(DomainEvent):
    """The deposit's payment is held or taken: its booking can be confirmed."""

    topic: ClassVar[str] = "deposit.secured"

    deposit_id: str
    booking_id: str


@frozen
class DepositSettled(DomainEvent):
    """The deposit counts against an invoice of its booking (the hold is captured for it)."""

    topic: ClassVar[str] = "deposit.settled"

    deposit_id: str
    payment_id: str
    invoice_id: str


@frozen
class DepositReturned(DomainEvent):
    """The deposit goes back to the student: the hold is released, or `amount` refunded."""

    topic: ClassVar[str] = "deposit.returned"

    deposit_id: str
    payment_id: str
    amount: Money

"""Domain events: facts an aggregate records when a verb succeeds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from attrs import define, field, frozen

from justdriving.domain.money import Money


@frozen
class DomainEvent:
    """Base of all events; `name` is stable and used in logs and the outbox."""

    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__


@frozen
class BookingRequested(DomainEvent):
    booking_id: str


@frozen
class BookingConfirmed(DomainEvent):
    booking_id: str


@frozen
class BookingCancelled(DomainEvent):
    booking_id: str
    by: str
    fee: Money | None


@frozen
class BookingRescheduled(DomainEvent):
    booking_id: str
    previous_start: datetime


@frozen
class BookingCompleted(DomainEvent):
    booking_id: str


@frozen
class BookingMarkedNoShow(DomainEvent):
    booking_id: str


@frozen
class InvoiceIssued(DomainEvent):
    invoice_id: str
    number: str


@frozen
class InvoiceVoided(DomainEvent):
    invoice_id: str


@frozen
class InvoicePaid(DomainEvent):
    invoice_id: str


@frozen
class CreditNoteIssued(DomainEvent):
    """A numbered credit note corrects the invoice (a void, a refund): it goes to the books."""

    credit_note_id: str
    invoice_id: str


@frozen
class PaymentSucceeded(DomainEvent):
    payment_id: str
    amount: Money


@frozen
class PaymentAuthorized(DomainEvent):
    """The provider holds the money (a card hold, captured later)."""

    payment_id: str


@frozen
class PaymentCanceled(DomainEvent):
    """The provider let the payment go: a released hold, an abandoned checkout."""

    payment_id: str


@frozen
class PaymentFailed(DomainEvent):
    payment_id: str
    reason: str | None


@frozen
class PaymentHeldForReview(DomainEvent):
    payment_id: str
    reason: str


@frozen
class PaymentOverpaid(DomainEvent):
    """More arrived than the invoice asked: the rest is held for review, never kept."""

    payment_id: str
    excess: Money


@frozen
class RefundSucceeded(DomainEvent):
    refund_id: str
    amount: Money


@frozen
class RefundFailed(DomainEvent):
    refund_id: str


@define
class EventLog:
    """Events an aggregate recorded since it was loaded: handed to the reactions before the
    unit of work commits (`domain/services/reactions.py`), never stored."""

    pending: list[DomainEvent] = field(factory=list)

    def record(self, event: DomainEvent) -> None:
        self.pending.append(event)

    def drain(self) -> list[DomainEvent]:
        drained, self.pending = self.pending, []
        return drained


def drain_all(records: Iterable[object]) -> list[DomainEvent]:
    """Take the pending events of every record that keeps an EventLog, record by record."""
    drained: list[DomainEvent] = []
    for record in records:
        events = getattr(record, "events", None)
        if isinstance(events, EventLog):
            drained += events.drain()
    return drained

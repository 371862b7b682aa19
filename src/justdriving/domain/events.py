"""Domain events: facts an aggregate records when a verb succeeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from attrs import Attribute, asdict, define, field, frozen

from justdriving.domain.money import Money


@frozen
class DomainEvent:
    """Base of all events; `name` is stable and used in logs and the outbox.

    Each event type is part of the public vocabulary (`docs/events.md`): its `topic` names it
    to a subscriber, and its `version` goes up whenever a field is removed, renamed or changes
    its meaning (adding a field keeps the version). Ids are strings, amounts `Money` in minor
    units, times aware datetimes in UTC; every event names its school.
    """

    topic: ClassVar[str] = "event"
    version: ClassVar[int] = 1

    occurred_at: datetime
    school_id: str = field(kw_only=True)  # the tenant it happened in

    @property
    def name(self) -> str:
        return type(self).__name__


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


@frozen
class InvoiceIssued(DomainEvent):
    topic: ClassVar[str] = "invoice.issued"

    invoice_id: str
    number: str


@frozen
class InvoiceVoided(DomainEvent):
    topic: ClassVar[str] = "invoice.voided"

    invoice_id: str


@frozen
class InvoicePaid(DomainEvent):
    topic: ClassVar[str] = "invoice.paid"

    invoice_id: str


@frozen
class CreditNoteIssued(DomainEvent):
    """A numbered credit note corrects the invoice (a void, a refund): it goes to the books."""

    topic: ClassVar[str] = "credit_note.issued"

    credit_note_id: str
    invoice_id: str


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


@frozen
class SchoolSettingsChanged(DomainEvent):
    """A school's details or settings changed after registration; `changed` names them
    (`name`, `contact_email`, `sms_enabled`, `quiet_hours`, ...), never their values."""

    topic: ClassVar[str] = "school.settings_changed"

    changed: tuple[str, ...]


@frozen
class ConnectedAccountUpdated(DomainEvent):
    """The school's connected Stripe account was linked, or Stripe changed whether it may take
    charges (`account.updated`); card payments wait for `charges_enabled`."""

    topic: ClassVar[str] = "school.connected_account_updated"

    account_id: str
    charges_enabled: bool
    details_submitted: bool


@frozen
class StudentDetailsChanged(DomainEvent):
    """A student's name, phone, email or address changed; `changed` names which (a phone
    number or an address is not for a subscriber's log)."""

    topic: ClassVar[str] = "student.details_changed"

    student_id: str
    changed: tuple[str, ...]


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


@frozen
class PlanStarted(DomainEvent):
    """A payment plan began: a package's price in instalments, or a monthly fee."""

    topic: ClassVar[str] = "payment_plan.started"

    plan_id: str
    student_id: str
    kind: str  # instalments | recurring
    amount: Money  # instalments: the whole price; recurring: each month's fee
    package_id: str | None


@frozen
class PlanChargePaid(DomainEvent):
    """One of a plan's charges (an instalment, a month's fee) is paid."""

    topic: ClassVar[str] = "payment_plan.charge_paid"

    plan_id: str
    sequence: int
    invoice_id: str
    amount: Money


@frozen
class PlanChargeFailed(DomainEvent):
    """The card was declined for one of a plan's charges; `retrying` says whether another
    attempt is scheduled."""

    topic: ClassVar[str] = "payment_plan.charge_failed"

    plan_id: str
    sequence: int
    invoice_id: str
    retrying: bool


@frozen
class PlanPaused(DomainEvent):
    """A plan's charge failed for good: nothing more falls due until its invoice is paid."""

    topic: ClassVar[str] = "payment_plan.paused"

    plan_id: str
    sequence: int


@frozen
class PlanCompleted(DomainEvent):
    topic: ClassVar[str] = "payment_plan.completed"

    plan_id: str


@frozen
class PlanCancelled(DomainEvent):
    topic: ClassVar[str] = "payment_plan.cancelled"

    plan_id: str


def _vocabulary(*kinds: type[DomainEvent]) -> Mapping[str, type[DomainEvent]]:
    topics = {kind.topic: kind for kind in kinds}
    if len(topics) != len(kinds):
        raise ValueError("two event types share a topic")
    return topics


# Every event type by its topic: what a host application can subscribe to.
EVENT_TYPES: Final[Mapping[str, type[DomainEvent]]] = _vocabulary(
    BookingRequested,
    BookingConfirmed,
    BookingCancelled,
    BookingRescheduled,
    BookingCompleted,
    BookingMarkedNoShow,
    DepositSecured,
    DepositSettled,
    DepositReturned,
    InvoiceIssued,
    InvoiceVoided,
    InvoicePaid,
    CreditNoteIssued,
    PaymentSucceeded,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentOverpaid,
    RefundSucceeded,
    RefundFailed,
    SchoolSettingsChanged,
    ConnectedAccountUpdated,
    StudentDetailsChanged,
    PaymentMethodSaved,
    PaymentMethodRemoved,
    CardSetupFailed,
    CustomerChargeRequiresAction,
    CustomerChargeDeclined,
    PlanStarted,
    PlanChargePaid,
    PlanChargeFailed,
    PlanPaused,
    PlanCompleted,
    PlanCancelled,
)


def event_to_json(event: DomainEvent) -> dict[str, Any]:
    """The event as a JSON-ready document: ``{"topic", "version", "occurred_at", ...}``, amounts
    as ``{"amount": <minor units>, "currency"}``, times ISO 8601 in UTC
    (`justdriving.adapters.event_wire.event_from_json` reads it back)."""
    fields = asdict(event, value_serializer=_json_value)
    return {"topic": event.topic, "version": event.version, **fields}


def _json_value(_: object, __: Attribute[Any] | None, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


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

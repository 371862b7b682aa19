"""Domain events: facts an aggregate records when a verb succeeds.

The public vocabulary (docs/events.md): every event type importable from here, and
EVENT_TYPES, each by its topic. The modules below group them by what they concern."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from justdriving.domain.events.accounts import (
    ConnectedAccountUpdated,
    SchoolSettingsChanged,
    StudentDetailsChanged,
)
from justdriving.domain.events.base import DomainEvent, EventLog, drain_all, event_to_json
from justdriving.domain.events.invoices import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoicePaid,
    InvoiceVoided,
)
from justdriving.domain.events.lessons import (
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRequested,
    BookingRescheduled,
    DepositReturned,
    DepositSecured,
    DepositSettled,
)
from justdriving.domain.events.payments import (
    PaymentAuthorized,
    PaymentCanceled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentOverpaid,
    PaymentSucceeded,
    RefundFailed,
    RefundSucceeded,
)
from justdriving.domain.events.plans import (
    PlanCancelled,
    PlanChargeFailed,
    PlanChargePaid,
    PlanCompleted,
    PlanPaused,
    PlanStarted,
)
from justdriving.domain.events.saved_cards import (
    CardSetupFailed,
    CustomerChargeDeclined,
    CustomerChargeRequiresAction,
    PaymentMethodRemoved,
    PaymentMethodSaved,
)

__all__ = [
    "EVENT_TYPES",
    "BookingCancelled",
    "BookingCompleted",
    "BookingConfirmed",
    "BookingMarkedNoShow",
    "BookingRequested",
    "BookingRescheduled",
    "CardSetupFailed",
    "ConnectedAccountUpdated",
    "CreditNoteIssued",
    "CustomerChargeDeclined",
    "CustomerChargeRequiresAction",
    "DepositReturned",
    "DepositSecured",
    "DepositSettled",
    "DomainEvent",
    "EventLog",
    "InvoiceIssued",
    "InvoicePaid",
    "InvoiceVoided",
    "PaymentAuthorized",
    "PaymentCanceled",
    "PaymentFailed",
    "PaymentHeldForReview",
    "PaymentMethodRemoved",
    "PaymentMethodSaved",
    "PaymentOverpaid",
    "PaymentSucceeded",
    "PlanCancelled",
    "PlanChargeFailed",
    "PlanChargePaid",
    "PlanCompleted",
    "PlanPaused",
    "PlanStarted",
    "RefundFailed",
    "RefundSucceeded",
    "SchoolSettingsChanged",
    "StudentDetailsChanged",
    "drain_all",
    "event_to_json",
]


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

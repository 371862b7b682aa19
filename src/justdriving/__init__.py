"""justdriving: the integration core of a driving-school platform.

`justdriving.bootstrap()` returns the application facade with every use case by name. Every
type a caller passes to the facade or gets back from it is importable from here and listed in
`__all__`; deeper module paths are internal and may move. Importing this package reads no
configuration, opens no connection and imports no provider SDK; the facade's own modules (the
use cases) load on first use of `bootstrap` or of a use-case type (`Application`, `LineItem`,
`StartedPayment`, the reports).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from justdriving.config import Settings
from justdriving.domain.accounting import AccountingConnection, SyncRun
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.balances import Balance
from justdriving.domain.bookings import (
    Booking,
    BookingStatus,
    BookingType,
    CancellationPolicy,
    CancelledBy,
    FeeTier,
    TimeSlot,
)
from justdriving.domain.charges import ChargeKind, ChargeReason
from justdriving.domain.connect import ConnectedAccount, PlatformFee
from justdriving.domain.delivery import DeliveryReceipt, InboundSms, Keyword
from justdriving.domain.errors import (
    BookingNotAllowed,
    BooksNotConnected,
    CapabilityNotSupported,
    ChargesNotEnabled,
    ConcurrencyConflict,
    ConfigurationError,
    CurrencyMismatch,
    DuplicateRecord,
    InvalidCvrNumber,
    InvalidEmailAddress,
    InvalidInput,
    InvalidMoney,
    InvalidPhoneNumber,
    InvalidSignature,
    InvalidTransition,
    JustDrivingError,
    MalformedWebhook,
    NotFound,
    PackageExhausted,
    PayLinkExpired,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RecipientSuppressed,
    RefundExceedsCaptured,
    TeacherDoubleBooked,
    UnusableWebhook,
    WebhookRejected,
)
from justdriving.domain.events import (
    EVENT_TYPES,
    BookingCancelled,
    BookingCompleted,
    BookingConfirmed,
    BookingMarkedNoShow,
    BookingRequested,
    BookingRescheduled,
    CardSetupFailed,
    ConnectedAccountUpdated,
    CreditNoteIssued,
    CustomerChargeDeclined,
    CustomerChargeRequiresAction,
    DepositReturned,
    DepositSecured,
    DepositSettled,
    DomainEvent,
    InvoiceIssued,
    InvoicePaid,
    InvoiceVoided,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentFailed,
    PaymentHeldForReview,
    PaymentMethodRemoved,
    PaymentMethodSaved,
    PaymentOverpaid,
    PaymentSucceeded,
    PlanCancelled,
    PlanChargeFailed,
    PlanChargePaid,
    PlanCompleted,
    PlanPaused,
    PlanStarted,
    RefundFailed,
    RefundSucceeded,
    SchoolSettingsChanged,
    StudentDetailsChanged,
)
from justdriving.domain.gateway_credentials import SchoolPayPal
from justdriving.domain.inbound import InboundChannel, UnknownEvent
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceLine, InvoiceStatus
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.money import Money
from justdriving.domain.overpayments import Overpayment
from justdriving.domain.packages import LessonPackage, PackageStatus
from justdriving.domain.payments import (
    EventOutcome,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from justdriving.domain.people import EmailAddress, PhoneNumber, Student, Teacher
from justdriving.domain.plans import ChargeState, PaymentPlan, PlanCharge, PlanKind, PlanStatus
from justdriving.domain.refunds import Refund, RefundStatus
from justdriving.domain.saved_methods import SavedMethod
from justdriving.domain.schools import (
    AccountingCustomerMode,
    AccountMapping,
    Branding,
    InvoiceService,
    MessageType,
    QuietHours,
    School,
    SchoolSettings,
    SickReport,
)
from justdriving.domain.tax import TaxRate
from justdriving.ports.webhooks import WebhookRequest

if TYPE_CHECKING:
    from justdriving.application import Application
    from justdriving.domain.services.accounting.export import ExportFormat, ExportResult
    from justdriving.domain.services.announcements import Audience, Recipients
    from justdriving.domain.services.bookings import BookingOutcome
    from justdriving.domain.services.changes import KEEP, Keep
    from justdriving.domain.services.inbox_storage import WebhookReceipt
    from justdriving.domain.services.invoicing import LineItem
    from justdriving.domain.services.message_webhooks import ReceiptOutcome
    from justdriving.domain.services.payment_starts import StartedPayment
    from justdriving.domain.services.reminders import ReminderReport
    from justdriving.domain.services.saved_methods import CardSetup
    from justdriving.domain.services.staff_alerts import DigestReport
    from justdriving.relay.engine import RelayReport

__version__ = "0.1.0"

# Loaded on first use: they import the use cases, which a process that only reads a Money or
# an error never needs.
_LAZY = {
    "Application": "justdriving.application",
    "Audience": "justdriving.domain.services.announcements",
    "BookingOutcome": "justdriving.domain.services.bookings",
    "CardSetup": "justdriving.domain.services.saved_methods",
    "ExportFormat": "justdriving.domain.services.accounting.export",
    "ExportResult": "justdriving.domain.services.accounting.export",
    "KEEP": "justdriving.domain.services.changes",
    "Keep": "justdriving.domain.services.changes",
    "LineItem": "justdriving.domain.services.invoicing",
    "ReceiptOutcome": "justdriving.domain.services.message_webhooks",
    "Recipients": "justdriving.domain.services.announcements",
    "RelayReport": "justdriving.relay.engine",
    "ReminderReport": "justdriving.domain.services.reminders",
    "DigestReport": "justdriving.domain.services.staff_alerts",
    "StartedPayment": "justdriving.domain.services.payment_starts",
    "WebhookReceipt": "justdriving.domain.services.inbox_storage",
}


def bootstrap(settings: Settings | None = None) -> Application:
    """Wire the application for `settings` (read from the environment when None)."""
    from justdriving.container import bootstrap as _bootstrap

    return _bootstrap(settings)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'justdriving' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "EVENT_TYPES",
    "KEEP",
    "AccountMapping",
    "AccountingConnection",
    "AccountingCustomerMode",
    "Application",
    "Audience",
    "Balance",
    "Booking",
    "BookingCancelled",
    "BookingCompleted",
    "BookingConfirmed",
    "BookingMarkedNoShow",
    "BookingNotAllowed",
    "BookingOutcome",
    "BookingRequested",
    "BookingRescheduled",
    "BookingStatus",
    "BookingType",
    "BooksNotConnected",
    "Branding",
    "CancellationPolicy",
    "CancelledBy",
    "CapabilityNotSupported",
    "CardSetup",
    "CardSetupFailed",
    "Channel",
    "ChargeKind",
    "ChargeReason",
    "ChargeState",
    "ChargesNotEnabled",
    "ConcurrencyConflict",
    "ConfigurationError",
    "ConnectedAccount",
    "ConnectedAccountUpdated",
    "CreditNote",
    "CreditNoteIssued",
    "CurrencyMismatch",
    "CustomerChargeDeclined",
    "CustomerChargeRequiresAction",
    "DeliveryReceipt",
    "DepositReturned",
    "DepositSecured",
    "DepositSettled",
    "DigestReport",
    "DomainEvent",
    "DuplicateRecord",
    "EmailAddress",
    "EventOutcome",
    "ExportFormat",
    "ExportResult",
    "FeeTier",
    "InboundChannel",
    "InboundSms",
    "InvalidCvrNumber",
    "InvalidEmailAddress",
    "InvalidInput",
    "InvalidMoney",
    "InvalidPhoneNumber",
    "InvalidSignature",
    "InvalidTransition",
    "Invoice",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoicePaid",
    "InvoiceService",
    "InvoiceStatus",
    "InvoiceVoided",
    "JustDrivingError",
    "Keep",
    "Keyword",
    "LessonPackage",
    "LineItem",
    "MalformedWebhook",
    "MessageStatus",
    "MessageType",
    "Money",
    "NotFound",
    "OutboundMessage",
    "Overpayment",
    "PackageExhausted",
    "PackageStatus",
    "PayLinkExpired",
    "Payment",
    "PaymentAuthorized",
    "PaymentCanceled",
    "PaymentDeclined",
    "PaymentFailed",
    "PaymentHeldForReview",
    "PaymentMethod",
    "PaymentMethodRemoved",
    "PaymentMethodSaved",
    "PaymentNotAllowed",
    "PaymentOverpaid",
    "PaymentPlan",
    "PaymentPurpose",
    "PaymentStatus",
    "PaymentSucceeded",
    "PhoneNumber",
    "PlanCancelled",
    "PlanCharge",
    "PlanChargeFailed",
    "PlanChargePaid",
    "PlanCompleted",
    "PlanKind",
    "PlanPaused",
    "PlanStarted",
    "PlanStatus",
    "PlatformFee",
    "PostalAddress",
    "ProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "QuietHours",
    "ReceiptOutcome",
    "RecipientSuppressed",
    "Recipients",
    "Refund",
    "RefundExceedsCaptured",
    "RefundFailed",
    "RefundStatus",
    "RefundSucceeded",
    "RelayReport",
    "ReminderReport",
    "SavedMethod",
    "School",
    "SchoolPayPal",
    "SchoolSettings",
    "SchoolSettingsChanged",
    "Settings",
    "SickReport",
    "StartedPayment",
    "Student",
    "StudentDetailsChanged",
    "SyncRun",
    "TaxRate",
    "Teacher",
    "TeacherDoubleBooked",
    "TimeSlot",
    "UnknownEvent",
    "UnusableWebhook",
    "WebhookReceipt",
    "WebhookRejected",
    "WebhookRequest",
    "__version__",
    "bootstrap",
]

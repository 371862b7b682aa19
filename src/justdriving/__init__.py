"""justdriving: the integration core of a driving-school platform.

`justdriving.bootstrap()` returns the application facade with every use case by name. Every
type a caller passes to the facade or gets back from it is importable from here and listed in
`__all__`; deeper module paths are internal and may move. Importing this package reads no
configuration, opens no connection, imports no provider SDK and loads none of the names it
exports: each public name's module is imported on its first use (`justdriving.Money`,
`from justdriving import Money`), so a process loads only the parts it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names as _EXPORTS, for type checkers and editors
    from justdriving.application import Application
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
    from justdriving.domain.contact import EmailAddress, PhoneNumber
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
    from justdriving.domain.people import Student, Teacher
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
    from justdriving.domain.tax import TaxRate
    from justdriving.ports.webhooks import WebhookRequest
    from justdriving.relay.engine import RelayReport

__version__ = "0.1.0"

# The one table of where each public name lives (a module moved: change its key here and in
# the TYPE_CHECKING imports above; tests/unit/test_public_surface.py checks they agree).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "justdriving.application": ("Application",),
    "justdriving.config": ("Settings",),
    "justdriving.domain.accounting": ("AccountingConnection", "SyncRun"),
    "justdriving.domain.addresses": ("PostalAddress",),
    "justdriving.domain.balances": ("Balance",),
    "justdriving.domain.bookings": (
        "Booking",
        "BookingStatus",
        "BookingType",
        "CancellationPolicy",
        "CancelledBy",
        "FeeTier",
        "TimeSlot",
    ),
    "justdriving.domain.charges": ("ChargeKind", "ChargeReason"),
    "justdriving.domain.connect": ("ConnectedAccount", "PlatformFee"),
    "justdriving.domain.contact": ("EmailAddress", "PhoneNumber"),
    "justdriving.domain.delivery": ("DeliveryReceipt", "InboundSms", "Keyword"),
    "justdriving.domain.errors": (
        "BookingNotAllowed",
        "BooksNotConnected",
        "CapabilityNotSupported",
        "ChargesNotEnabled",
        "ConcurrencyConflict",
        "ConfigurationError",
        "CurrencyMismatch",
        "DuplicateRecord",
        "InvalidCvrNumber",
        "InvalidEmailAddress",
        "InvalidInput",
        "InvalidMoney",
        "InvalidPhoneNumber",
        "InvalidSignature",
        "InvalidTransition",
        "JustDrivingError",
        "MalformedWebhook",
        "NotFound",
        "PackageExhausted",
        "PayLinkExpired",
        "PaymentDeclined",
        "PaymentNotAllowed",
        "ProviderError",
        "ProviderRejected",
        "ProviderUnavailable",
        "RecipientSuppressed",
        "RefundExceedsCaptured",
        "TeacherDoubleBooked",
        "UnusableWebhook",
        "WebhookRejected",
    ),
    "justdriving.domain.events": (
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
        "EVENT_TYPES",
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
    ),
    "justdriving.domain.gateway_credentials": ("SchoolPayPal",),
    "justdriving.domain.inbound": ("InboundChannel", "UnknownEvent"),
    "justdriving.domain.invoices": ("CreditNote", "Invoice", "InvoiceLine", "InvoiceStatus"),
    "justdriving.domain.messages": ("Channel", "MessageStatus", "OutboundMessage"),
    "justdriving.domain.money": ("Money",),
    "justdriving.domain.overpayments": ("Overpayment",),
    "justdriving.domain.packages": ("LessonPackage", "PackageStatus"),
    "justdriving.domain.payments": (
        "EventOutcome",
        "Payment",
        "PaymentMethod",
        "PaymentPurpose",
        "PaymentStatus",
    ),
    "justdriving.domain.people": ("Student", "Teacher"),
    "justdriving.domain.plans": (
        "ChargeState",
        "PaymentPlan",
        "PlanCharge",
        "PlanKind",
        "PlanStatus",
    ),
    "justdriving.domain.refunds": ("Refund", "RefundStatus"),
    "justdriving.domain.saved_methods": ("SavedMethod",),
    "justdriving.domain.schools": (
        "AccountMapping",
        "AccountingCustomerMode",
        "Branding",
        "InvoiceService",
        "MessageType",
        "QuietHours",
        "School",
        "SchoolSettings",
        "SickReport",
    ),
    "justdriving.domain.services.accounting.export": ("ExportFormat", "ExportResult"),
    "justdriving.domain.services.announcements": ("Audience", "Recipients"),
    "justdriving.domain.services.bookings": ("BookingOutcome",),
    "justdriving.domain.services.changes": ("KEEP", "Keep"),
    "justdriving.domain.services.inbox_storage": ("WebhookReceipt",),
    "justdriving.domain.services.invoicing": ("LineItem",),
    "justdriving.domain.services.message_webhooks": ("ReceiptOutcome",),
    "justdriving.domain.services.payment_starts": ("StartedPayment",),
    "justdriving.domain.services.reminders": ("ReminderReport",),
    "justdriving.domain.services.saved_methods": ("CardSetup",),
    "justdriving.domain.services.staff_alerts": ("DigestReport",),
    "justdriving.domain.tax": ("TaxRate",),
    "justdriving.ports.webhooks": ("WebhookRequest",),
    "justdriving.relay.engine": ("RelayReport",),
}
_MODULE_OF: dict[str, str] = {name: module for module, names in _EXPORTS.items() for name in names}


def bootstrap(settings: Settings | None = None) -> Application:
    """Wire the application for `settings` (read from the environment when None)."""
    from justdriving.container import bootstrap as _bootstrap

    return _bootstrap(settings)


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use and kept here after (PEP 562)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'justdriving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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

"""Schools (tenants) and the settings each one chooses for payments, messages and accounting."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import define, field, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import SchoolId
from justdriving.domain.money import currency_exponent
from justdriving.domain.people import _check_name
from justdriving.domain.tax import TaxRate


class InvoiceService(enum.StrEnum):
    """What an invoice line is for; each maps to an account and VAT code per school."""

    LESSON = "lesson"
    PACKAGE = "package"
    CANCELLATION_FEE = "cancellation_fee"
    NO_SHOW_FEE = "no_show_fee"
    MATERIALS = "materials"
    TEST_DAY_CAR_HIRE = "test_day_car_hire"


class MessageType(enum.StrEnum):
    BOOKING_CONFIRMATION = "booking_confirmation"
    REMINDER = "reminder"
    BOOKING_CHANGE = "booking_change"
    CANCELLATION = "cancellation"
    PAYMENT_RECEIPT = "payment_receipt"
    INVOICE_ISSUED = "invoice_issued"
    OVERDUE_REMINDER = "overdue_reminder"
    REFUND_CONFIRMATION = "refund_confirmation"
    ANNOUNCEMENT = "announcement"
    HELP_REPLY = "help_reply"  # the answer to an SMS "HELP": who the school is, how to reach it

    @property
    def urgent(self) -> bool:
        """Urgent messages go out in quiet hours too: the lesson they concern may be close."""
        return self in _URGENT


_URGENT = frozenset(
    {
        MessageType.BOOKING_CONFIRMATION,
        MessageType.BOOKING_CHANGE,
        MessageType.CANCELLATION,
        MessageType.HELP_REPLY,
    }
)


class AccountingCustomerMode(enum.StrEnum):
    INDIVIDUAL = "individual"
    SHARED = "shared"


DANISH_VAT = TaxRate(2500)
DEFAULT_GATEWAY = "default"
DEFAULT_SMS_SEGMENTS = 3
LANGUAGES = frozenset({"da", "en"})


def _check_timezone(_: object, __: object, value: Any) -> None:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown IANA timezone {value!r}") from None


def _check_region(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise InvalidInput("a phone region is an ISO 3166 alpha-2 code such as DK")


def _check_language(_: object, __: object, value: Any) -> None:
    if value not in LANGUAGES:
        raise InvalidInput(f"language must be one of {sorted(LANGUAGES)}")


@frozen
class QuietHours:
    """Local hours in which non-urgent messages wait; may wrap midnight (21:00 to 08:00)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@frozen
class AccountMapping:
    account_code: str
    vat_code: str


@frozen
class Branding:
    colour: str = "#1f6feb"
    logo_url: str | None = None
    footer: str = ""


@frozen
class SchoolSettings:
    """Everything a school chooses. `payment_gateway` names a gateway, or is DEFAULT_GATEWAY
    (the platform's PAYMENT_PROVIDER), or None: manual payments only."""

    payment_gateway: str | None = DEFAULT_GATEWAY
    sms_enabled: bool = True
    sms_message_types: frozenset[MessageType] = frozenset(MessageType)
    email_message_types: frozenset[MessageType] = frozenset(MessageType)
    sender_id: str | None = None
    quiet_hours: QuietHours | None = QuietHours()
    branding: Branding = Branding()
    language: str = field(default="da", validator=_check_language)
    accounting_provider: str | None = None
    account_map: Mapping[InvoiceService, AccountMapping] = field(factory=dict)
    accounting_customer_mode: AccountingCustomerMode = AccountingCustomerMode.INDIVIDUAL
    block_booking_when_overdue: bool = False
    booking_horizon_days: int = 90
    booking_lead_time_hours: int = 2
    invoice_due_days: int = 14
    sms_reminder_hours_before: int = 24
    email_reminder_hours_before: int = 72
    deposit_required: bool = False
    # SMS parts a message may take, per message type (others: DEFAULT_SMS_SEGMENTS); a longer
    # text is not sent by SMS (the email still goes) and the message says why.
    sms_max_segments: Mapping[MessageType, int] = field(factory=dict)
    vat_rate: TaxRate = DANISH_VAT
    prices_include_vat: bool = True


@define(eq=False)
class School(Entity):
    id: SchoolId
    name: str = field(validator=_check_name)
    currency: str = field(default="DKK")
    timezone: str = field(default="Europe/Copenhagen", validator=_check_timezone)
    phone_region: str = field(default="DK", validator=_check_region)
    vat_number: str | None = None
    vat_registered: bool = True
    settings: SchoolSettings = field(factory=SchoolSettings)
    contact_phone: str | None = None
    contact_email: str | None = None

    @currency.validator
    def _currency_known(self, _: object, value: str) -> None:
        currency_exponent(value)

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))

    def in_quiet_hours(self, moment: datetime) -> bool:
        quiet = self.settings.quiet_hours
        return quiet is not None and quiet.contains(self.local_time(moment).time())

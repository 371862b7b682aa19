"""Schools (tenants) and the settings each one chooses for payments, messages and accounting."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import define, field, frozen

from justdriving.domain.addresses import PostalAddress, check_cvr
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import SchoolId
from justdriving.domain.money import currency_exponent
from justdriving.domain.people import _check_e164, _check_email, _check_name
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
    # A charge to a saved card needs the student: their bank asks them to confirm it.
    PAYMENT_ACTION_REQUIRED = "payment_action_required"

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


def _of(*kinds: type | None) -> Any:
    """attrs validator: the value is an instance of one of `kinds` (None: may be None)."""
    allowed = tuple(type(None) if k is None else k for k in kinds)

    def check(_: object, attribute: Any, value: Any) -> None:
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join("None" if k is None else k.__name__ for k in kinds)
            raise InvalidInput(f"{attribute.name} is {names}, not {type(value).__name__}")

    return check


def _whole(low: int, high: int) -> Any:
    """attrs validator: an int (not a bool) from `low` to `high`."""

    def check(_: object, attribute: Any, value: Any) -> None:
        if type(value) is not int or not low <= value <= high:
            raise InvalidInput(f"{attribute.name} is an int from {low} to {high}")

    return check


def _message_types(_: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, frozenset) or not all(isinstance(m, MessageType) for m in value):
        raise InvalidInput(f"{attribute.name} is a frozenset of MessageType")


def _account_map(_: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, InvoiceService) and isinstance(v, AccountMapping) for k, v in value.items()
    ):
        raise InvalidInput(f"{attribute.name} maps InvoiceService to AccountMapping")


def _segments(_: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, MessageType) and type(v) is int and 1 <= v <= 50 for k, v in value.items()
    ):
        raise InvalidInput(f"{attribute.name} maps MessageType to an int from 1 to 50")


def _optional_e164(_: object, attribute: Any, value: Any) -> None:
    if value is not None:
        _check_e164(_, attribute, value)


def _optional_email(_: object, attribute: Any, value: Any) -> None:
    if value is not None:
        _check_email(_, attribute, value)


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

    payment_gateway: str | None = field(default=DEFAULT_GATEWAY, validator=_of(str, None))
    sms_enabled: bool = field(default=True, validator=_of(bool))
    sms_message_types: frozenset[MessageType] = field(
        default=frozenset(MessageType), validator=_message_types
    )
    email_message_types: frozenset[MessageType] = field(
        default=frozenset(MessageType), validator=_message_types
    )
    sender_id: str | None = field(default=None, validator=_of(str, None))
    quiet_hours: QuietHours | None = field(default=QuietHours(), validator=_of(QuietHours, None))
    branding: Branding = field(default=Branding(), validator=_of(Branding))
    language: str = field(default="da", validator=_check_language)
    accounting_provider: str | None = field(default=None, validator=_of(str, None))
    account_map: Mapping[InvoiceService, AccountMapping] = field(
        factory=dict, validator=_account_map
    )
    accounting_customer_mode: AccountingCustomerMode = field(
        default=AccountingCustomerMode.INDIVIDUAL, validator=_of(AccountingCustomerMode)
    )
    block_booking_when_overdue: bool = field(default=False, validator=_of(bool))
    booking_horizon_days: int = field(default=90, validator=_whole(1, 3660))
    booking_lead_time_hours: int = field(default=2, validator=_whole(0, 24 * 366))
    invoice_due_days: int = field(default=14, validator=_whole(0, 3660))
    sms_reminder_hours_before: int = field(default=24, validator=_whole(0, 24 * 366))
    email_reminder_hours_before: int = field(default=72, validator=_whole(0, 24 * 366))
    deposit_required: bool = field(default=False, validator=_of(bool))
    # No-show and late-cancellation fees: invoiced always; with this on, the invoice is also
    # charged to the student's saved card (when they have one) without them.
    charge_fees_to_saved_card: bool = field(default=False, validator=_of(bool))
    # SMS parts a message may take, per message type (others: DEFAULT_SMS_SEGMENTS); a longer
    # text is not sent by SMS (the email still goes) and the message says why.
    sms_max_segments: Mapping[MessageType, int] = field(factory=dict, validator=_segments)
    vat_rate: TaxRate = field(default=DANISH_VAT, validator=_of(TaxRate))
    prices_include_vat: bool = field(default=True, validator=_of(bool))
    # The seller's details a full Danish invoice carries: its CVR number (8 digits) and address.
    cvr_number: str | None = field(default=None, validator=check_cvr)
    address: PostalAddress | None = field(default=None, validator=_of(PostalAddress, None))


@define(eq=False)
class School(Entity):
    id: SchoolId
    name: str = field(validator=_check_name)
    currency: str = field(default="DKK")
    timezone: str = field(default="Europe/Copenhagen", validator=_check_timezone)
    phone_region: str = field(default="DK", validator=_check_region)
    vat_number: str | None = field(default=None, validator=_of(str, None))
    vat_registered: bool = field(default=True, validator=_of(bool))
    settings: SchoolSettings = field(factory=SchoolSettings, validator=_of(SchoolSettings))
    # Stored parsed, like a student's: E.164 and a checked address (see Registration).
    contact_phone: str | None = field(default=None, validator=_optional_e164)
    contact_email: str | None = field(default=None, validator=_optional_email)

    @currency.validator
    def _currency_known(self, _: object, value: str) -> None:
        currency_exponent(value)

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))

    def in_quiet_hours(self, moment: datetime) -> bool:
        quiet = self.settings.quiet_hours
        return quiet is not None and quiet.contains(self.local_time(moment).time())

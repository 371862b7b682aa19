"""What a school chooses for payments, messages and accounting (SchoolSettings), each
choice checked as it is made."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import time
from typing import Any

from attrs import evolve, field, fields, frozen

from justdriving.domain.addresses import PostalAddress, check_cvr
from justdriving.domain.connect import PlatformFee
from justdriving.domain.dunning import DEFAULT_LADDER, DunningStep, check_ladder
from justdriving.domain.errors import InvalidInput
from justdriving.domain.message_types import (
    STUDENT_MESSAGE_TYPES,
    TEACHER_MESSAGE_TYPES,
    MessageType,
)
from justdriving.domain.school_checks import (
    _check_language,
    _display_name,
    _email_or_none,
    _number_prefix,
    _of,
    _optional_whole,
    _page_url,
    _sender_id,
    _whole,
)
from justdriving.domain.tax import TaxRate


class InvoiceService(enum.StrEnum):
    """What an invoice line is for; each maps to an account and VAT code per school."""

    LESSON = "lesson"
    PACKAGE = "package"
    CANCELLATION_FEE = "cancellation_fee"
    NO_SHOW_FEE = "no_show_fee"
    MATERIALS = "materials"
    TEST_DAY_CAR_HIRE = "test_day_car_hire"


class SickReport(enum.StrEnum):
    """What a teacher's "SYG" reply does: nothing (the school calls them), or cancel the rest
    of that teacher's day as the teacher's cancellation (free for the students, each told)."""

    IGNORE = "ignore"
    CANCEL_DAY = "cancel_day"


class AccountingCustomerMode(enum.StrEnum):
    INDIVIDUAL = "individual"
    SHARED = "shared"


DANISH_VAT = TaxRate(2500)
DEFAULT_GATEWAY = "default"
DEFAULT_SMS_SEGMENTS = 3


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
        default=STUDENT_MESSAGE_TYPES, validator=_message_types
    )
    email_message_types: frozenset[MessageType] = field(
        default=STUDENT_MESSAGE_TYPES, validator=_message_types
    )
    # Who an SMS is from: an alphanumeric sender (1 to 11 ASCII letters, digits or spaces, at
    # least one letter; where the destination country allows one) or a number (up to 15
    # digits); None: the platform's SMS_FROM_NUMBER.
    sender_id: str | None = field(default=None, validator=_sender_id)
    # Who an email is from, by name (the address stays the platform's MAIL_FROM_ADDRESS, whose
    # domain is the one authenticated), and where replies go; None: the platform's.
    email_from_name: str | None = field(default=None, validator=_display_name)
    email_reply_to: str | None = field(default=None, validator=_email_or_none)
    quiet_hours: QuietHours | None = field(default=QuietHours(), validator=_of(QuietHours, None))
    # What teachers are told, by which channel, and when they are left alone (their own hours:
    # a teacher's day may start before the students').
    teacher_sms_message_types: frozenset[MessageType] = field(
        default=TEACHER_MESSAGE_TYPES, validator=_message_types
    )
    teacher_email_message_types: frozenset[MessageType] = field(
        default=TEACHER_MESSAGE_TYPES, validator=_message_types
    )
    teacher_quiet_hours: QuietHours | None = field(
        default=QuietHours(), validator=_of(QuietHours, None)
    )
    # The local hour (0-23) at which each teacher gets the day's agenda; None: no agenda.
    teacher_agenda_hour: int | None = field(default=None, validator=_optional_whole(0, 23))
    teacher_sick_report: SickReport = field(default=SickReport.IGNORE, validator=_of(SickReport))
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
    # With block_booking_when_overdue: how many days past due an invoice blocks booking (0:
    # from the first day).
    block_booking_overdue_days: int = field(default=0, validator=_whole(0, 365))
    # The reminders an overdue invoice gets: days past due and tone (domain.dunning).
    dunning_ladder: tuple[DunningStep, ...] = field(
        default=DEFAULT_LADDER, validator=lambda _, __, v: check_ladder(v)
    )
    booking_horizon_days: int = field(default=90, validator=_whole(1, 3660))
    booking_lead_time_hours: int = field(default=2, validator=_whole(0, 24 * 366))
    invoice_due_days: int = field(default=14, validator=_whole(0, 3660))
    sms_reminder_hours_before: int = field(default=24, validator=_whole(0, 24 * 366))
    email_reminder_hours_before: int = field(default=72, validator=_whole(0, 24 * 366))
    deposit_required: bool = field(default=False, validator=_of(bool))
    # No-show and late-cancellation fees: invoiced always; with this on, the invoice is also
    # charged to the student's saved card (when they have one) without them.
    charge_fees_to_saved_card: bool = field(default=False, validator=_of(bool))
    # A deposit for a lesson beyond the card-hold window: held on the card at booking (not
    # charged) when the student has a saved card, and charged to that card when the hold
    # would lapse (the hold then released).
    charge_deposit_at_hold_lapse: bool = field(default=False, validator=_of(bool))
    # The host's page where a student saves a card (linked from the card-expiry notice).
    card_page_url: str | None = field(default=None, validator=_page_url)
    # Offer MobilePay beside cards on the Stripe checkout (DKK, EUR, NOK, SEK; Stripe refuses
    # it in other currencies, so it is left out there). A school on the Vipps MobilePay gateway
    # itself (payment_gateway="mobilepay") needs no switch: MobilePay is all it takes.
    offer_mobilepay: bool = field(default=False, validator=_of(bool))
    # SMS parts a message may take, per message type (others: DEFAULT_SMS_SEGMENTS); a longer
    # text is not sent by SMS (the email still goes) and the message says why.
    sms_max_segments: Mapping[MessageType, int] = field(factory=dict, validator=_segments)
    vat_rate: TaxRate = field(default=DANISH_VAT, validator=_of(TaxRate))
    prices_include_vat: bool = field(default=True, validator=_of(bool))
    # The seller's details a full Danish invoice carries: its CVR number (8 digits) and address.
    cvr_number: str | None = field(default=None, validator=check_cvr)
    address: PostalAddress | None = field(default=None, validator=_of(PostalAddress, None))
    # Put before every invoice and credit note number ("N-" makes N-1, N-2, …): schools that
    # share one Xero organisation or QuickBooks company need series of their own.
    invoice_number_prefix: str = field(default="", validator=_number_prefix)
    # What the platform keeps of each card payment made on the school's connected Stripe
    # account (Stripe Connect); None: nothing.
    platform_fee: PlatformFee | None = field(default=None, validator=_of(PlatformFee, None))

    def sends(self, type: MessageType, *, sms: bool) -> bool:
        """Whether this school sends `type` by SMS (`sms`) or email: a teacher's message by the
        teacher toggles, a requested one (account, host) always (SMS only while SMS is on), a
        student's by the student toggles."""
        if sms and not self.sms_enabled:
            return False
        if type.requested:
            return True
        if type.for_teachers:
            chosen = self.teacher_sms_message_types if sms else self.teacher_email_message_types
        else:
            chosen = self.sms_message_types if sms else self.email_message_types
        return type in chosen

    def quiet_hours_for(self, type: MessageType | None) -> QuietHours | None:
        """The hours in which `type` waits: the teachers' for a teacher's message."""
        if type is not None and type.for_teachers:
            return self.teacher_quiet_hours
        return self.quiet_hours


def updated_settings(settings: SchoolSettings, changes: Mapping[str, Any]) -> SchoolSettings:
    """`settings` with `changes` (by field name) taken, validated as a whole like at
    registration; an unknown name is refused."""
    if not isinstance(changes, Mapping) or not all(isinstance(k, str) for k in changes):
        raise InvalidInput("settings changes map a setting's name to its value")
    known = {f.name for f in fields(SchoolSettings)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InvalidInput(f"no such school setting: {', '.join(unknown)[:200]}")
    return evolve(settings, **changes)

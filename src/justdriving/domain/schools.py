"""Schools (tenants) and the settings each one chooses for payments, messages and accounting."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import define, evolve, field, fields, frozen

from justdriving.domain.addresses import PostalAddress, check_cvr
from justdriving.domain.connect import ConnectedAccount, PlatformFee
from justdriving.domain.contact import EmailAddress, _check_e164, _check_email
from justdriving.domain.dunning import DEFAULT_LADDER, DunningStep, check_ladder
from justdriving.domain.entity import Entity
from justdriving.domain.errors import ChargesNotEnabled, InvalidInput, InvalidTransition
from justdriving.domain.events import ConnectedAccountUpdated, EventLog, SchoolSettingsChanged
from justdriving.domain.ids import SchoolId
from justdriving.domain.money import Money, currency_exponent
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
    # A charge to a saved card needs the student: their bank asks them to confirm it.
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    # A charge to a saved card was declined: the invoice's pay link (a retry may follow).
    PAYMENT_DECLINED = "payment_declined"
    # The saved card expires before it is next charged: a link to save a new one.
    CARD_EXPIRING = "card_expiring"
    # To the lesson's teacher, under the school's teacher toggles and teacher quiet hours.
    TEACHER_BOOKING = "teacher_booking"  # a lesson booked with them (confirmed)
    TEACHER_CHANGE = "teacher_change"  # one of their lessons moved
    TEACHER_CANCELLATION = "teacher_cancellation"  # cancelled, by whom
    TEACHER_NO_SHOW = "teacher_no_show"  # a no-show recorded on their lesson
    TEACHER_ANNOUNCEMENT = "teacher_announcement"  # the school's announcement to its teachers
    TEACHER_AGENDA = "teacher_agenda"  # the day's lessons, at the school's agenda hour
    # Asked for by a person or sent by the host application: the school's toggles do not apply.
    WELCOME = "welcome"
    EMAIL_VERIFICATION = "email_verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a message type, not a password)
    NOTICE = "notice"  # any other host message: its own template is named on the message
    # To the school's office: the alerts waiting for it, in one digest.
    STAFF_ALERT = "staff_alert"

    @property
    def urgent(self) -> bool:
        """Urgent messages go out in quiet hours too: the lesson they concern may be close."""
        return self in _URGENT

    @property
    def for_teachers(self) -> bool:
        """Sent to a teacher: the school's teacher toggles and teacher quiet hours apply."""
        return self in TEACHER_MESSAGE_TYPES

    @property
    def requested(self) -> bool:
        """An account or host message (welcome, verification, password reset, notice): someone
        asked for it, so the school's per-type toggles do not hold it back."""
        return self in ACCOUNT_MESSAGE_TYPES


_URGENT = frozenset(
    {
        MessageType.BOOKING_CONFIRMATION,
        MessageType.BOOKING_CHANGE,
        MessageType.CANCELLATION,
        MessageType.HELP_REPLY,
        MessageType.TEACHER_CHANGE,
        MessageType.TEACHER_CANCELLATION,
        MessageType.EMAIL_VERIFICATION,
        MessageType.PASSWORD_RESET,
    }
)
TEACHER_MESSAGE_TYPES = frozenset(
    {
        MessageType.TEACHER_BOOKING,
        MessageType.TEACHER_CHANGE,
        MessageType.TEACHER_CANCELLATION,
        MessageType.TEACHER_NO_SHOW,
        MessageType.TEACHER_ANNOUNCEMENT,
        MessageType.TEACHER_AGENDA,
    }
)
ACCOUNT_MESSAGE_TYPES = frozenset(
    {
        MessageType.WELCOME,
        MessageType.EMAIL_VERIFICATION,
        MessageType.PASSWORD_RESET,
        MessageType.NOTICE,
        MessageType.STAFF_ALERT,
    }
)
STUDENT_MESSAGE_TYPES = frozenset(MessageType) - TEACHER_MESSAGE_TYPES - ACCOUNT_MESSAGE_TYPES


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


def _sender_id(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.isascii() or not value.strip():
        raise InvalidInput("sender_id is 1 to 11 ASCII letters, digits or spaces, or a number")
    digits = value.removeprefix("+")
    if digits.isdigit():
        if len(digits) > 15:
            raise InvalidInput("sender_id as a number is at most 15 digits")
        return
    if len(value) > 11 or not all(char.isalnum() or char == " " for char in value):
        raise InvalidInput(
            "sender_id is at most 11 letters, digits or spaces (an alphanumeric SMS sender)"
        )
    if not any(char.isalpha() for char in value):
        raise InvalidInput("an alphanumeric sender_id needs at least one letter")


def _display_name(_: object, __: object, value: Any) -> None:
    if value is None:
        return
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > 70
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
    ):
        raise InvalidInput("email_from_name is 1 to 70 characters on one line")


def _email_or_none(_: object, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidInput(f"{attribute.name} is an email address")
    EmailAddress.parse(value)


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


def _optional_whole(low: int, high: int) -> Any:
    """attrs validator: None, or an int (not a bool) from `low` to `high`."""
    whole = _whole(low, high)

    def check(instance: object, attribute: Any, value: Any) -> None:
        if value is not None:
            whole(instance, attribute, value)

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


_PREFIX = re.compile(r"^[A-Za-z0-9/._-]{0,10}$")


def _number_prefix(_: object, attribute: Any, value: Any) -> None:
    # No spaces or commas: a number is looked up in comma-separated lists (Xero), and
    # QuickBooks takes 21 characters in all.
    if not isinstance(value, str) or not _PREFIX.match(value):
        raise InvalidInput(f"{attribute.name} is up to 10 letters, digits or / . _ -")


def _page_url(_: object, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500:
        raise InvalidInput(f"{attribute.name} is an https:// address of up to 500 characters")
    if any(c.isspace() for c in value):
        raise InvalidInput(f"{attribute.name} holds no spaces")


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
    # The school's own Stripe account, with Stripe Connect; None: not onboarded.
    connected_account: ConnectedAccount | None = field(
        default=None, validator=_of(ConnectedAccount, None)
    )
    events: EventLog = field(factory=EventLog, repr=False)

    @currency.validator
    def _currency_known(self, _: object, value: str) -> None:
        currency_exponent(value)

    def __attrs_post_init__(self) -> None:
        if self.settings.platform_fee is not None:
            self.settings.platform_fee.check_currency(self.currency)

    def card_account(self) -> ConnectedAccount:
        """The connected account card payments are made on; ChargesNotEnabled until Stripe
        has enabled charges on it."""
        account = self.connected_account
        if account is None:
            raise ChargesNotEnabled("the school has not connected its Stripe account yet")
        if not account.charges_enabled:
            raise ChargesNotEnabled("Stripe has not enabled charges on the school's account yet")
        return account

    def platform_fee_on(self, amount: Money) -> Money | None:
        fee = self.settings.platform_fee
        return None if fee is None else fee.on(amount)

    def link_account(self, account: ConnectedAccount, now: datetime) -> None:
        """Take the Stripe account made for the school; the same one again changes nothing,
        another one is refused (a school has one)."""
        current = self.connected_account
        if current is not None and current.account_id != account.account_id:
            raise InvalidTransition("school", "connected to another account", "connect")
        if current is None:
            self.connected_account = account
            self._account_changed(account, now)

    def update_account(self, account: ConnectedAccount, now: datetime) -> bool:
        """What Stripe now says of the school's account (`account.updated`); whether it
        changed anything."""
        current = self.connected_account
        if current is None or current.account_id != account.account_id:
            raise InvalidTransition("school", "not connected to this account", "account update")
        if current == account:
            return False
        self.connected_account = account
        self._account_changed(account, now)
        return True

    def _account_changed(self, account: ConnectedAccount, now: datetime) -> None:
        self.events.record(
            ConnectedAccountUpdated(
                now,
                account.account_id,
                account.charges_enabled,
                account.details_submitted,
                school_id=self.id,
            )
        )

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.timezone))

    def next_midnight(self, moment: datetime) -> datetime:
        """The end of `moment`'s day in the school's timezone (wall-clock arithmetic, so it
        stays midnight across a change of summer time)."""
        local = self.local_time(moment)
        return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)

    def in_quiet_hours(self, moment: datetime, type: MessageType | None = None) -> bool:
        """Whether `moment` falls in the quiet hours that hold `type` (a student's by default)."""
        quiet = self.settings.quiet_hours_for(type)
        return quiet is not None and quiet.contains(self.local_time(moment).time())

    def change(
        self,
        now: datetime,
        *,
        name: str,
        contact_phone: str | None,
        contact_email: str | None,
        settings: Mapping[str, Any],
    ) -> tuple[str, ...]:
        """Take the school's details and the `settings` named (SchoolSettings' fields), each
        checked like at registration before any is taken, and record which changed."""
        _check_name(None, None, name)
        _optional_e164(None, None, contact_phone)
        _optional_email(None, None, contact_email)
        updated = updated_settings(self.settings, settings)
        if updated.platform_fee is not None:
            updated.platform_fee.check_currency(self.currency)
        details = {"name": name, "contact_phone": contact_phone, "contact_email": contact_email}
        changed = tuple(key for key, value in details.items() if getattr(self, key) != value)
        changed += tuple(
            f.name
            for f in fields(SchoolSettings)
            if getattr(self.settings, f.name) != getattr(updated, f.name)
        )
        if changed:
            self.name, self.contact_phone, self.contact_email = name, contact_phone, contact_email
            self.settings = updated
            self.events.record(SchoolSettingsChanged(now, changed, school_id=self.id))
        return changed


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

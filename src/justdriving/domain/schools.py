"""Schools (tenants) and the settings each one chooses for payments, messages and accounting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from attrs import define, field, fields

from justdriving.domain.connect import ConnectedAccount
from justdriving.domain.entity import Entity
from justdriving.domain.errors import ChargesNotEnabled, InvalidTransition
from justdriving.domain.events import ConnectedAccountUpdated, EventLog, SchoolSettingsChanged
from justdriving.domain.ids import SchoolId
from justdriving.domain.message_types import (
    ACCOUNT_MESSAGE_TYPES,
    STUDENT_MESSAGE_TYPES,
    TEACHER_MESSAGE_TYPES,
    MessageType,
)
from justdriving.domain.money import Money, currency_exponent
from justdriving.domain.people import _check_name
from justdriving.domain.school_checks import (
    LANGUAGES,
    _check_region,
    _check_timezone,
    _of,
    _optional_e164,
    _optional_email,
)
from justdriving.domain.school_settings import (
    DANISH_VAT,
    DEFAULT_GATEWAY,
    DEFAULT_SMS_SEGMENTS,
    AccountingCustomerMode,
    AccountMapping,
    Branding,
    InvoiceService,
    QuietHours,
    SchoolSettings,
    SickReport,
    updated_settings,
)

__all__ = [
    "ACCOUNT_MESSAGE_TYPES",
    "DANISH_VAT",
    "DEFAULT_GATEWAY",
    "DEFAULT_SMS_SEGMENTS",
    "LANGUAGES",
    "STUDENT_MESSAGE_TYPES",
    "TEACHER_MESSAGE_TYPES",
    "AccountMapping",
    "AccountingCustomerMode",
    "Branding",
    "InvoiceService",
    "MessageType",
    "QuietHours",
    "School",
    "SchoolSettings",
    "SickReport",
    "updated_settings",
]


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

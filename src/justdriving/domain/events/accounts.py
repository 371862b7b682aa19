"""Events of a school's and a student's details: settings, the school's Stripe account."""

from __future__ import annotations

from typing import ClassVar

from attrs import frozen

from justdriving.domain.events.base import DomainEvent


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

"""Changing a school's details and settings, and a student's details, after registration.

Every value is checked as registration checks it, all of them before any is taken, so a
refused change leaves everything as it was. Each change is recorded as an event
(SchoolSettingsChanged, StudentDetailsChanged) naming what changed; with the accounting push
on, a student's new details are queued for the school's books in the same transaction.
A parameter left at KEEP keeps its value; None clears an optional one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.errors import InvalidInput
from justdriving.domain.people import EmailAddress, PhoneNumber, Student
from justdriving.domain.schools import School
from justdriving.domain.services.steps.billing import in_school
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory


class Keep(enum.Enum):
    """The type of KEEP: "leave this as it is"."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


class Changes:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    def change_school(
        self,
        school_id: str,
        *,
        name: str | Keep = KEEP,
        contact_phone: str | Keep | None = KEEP,
        contact_email: str | Keep | None = KEEP,
        settings: Mapping[str, Any] | None = None,
    ) -> School:
        """Change the school's name, contact phone or email, and the settings named in
        `settings` (SchoolSettings' fields: `{"sms_enabled": False, "sender_id": "Koreskole"}`);
        returns the school. Raises NotFound, or InvalidInput (and its kinds) for a bad value
        or an unknown setting."""
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            phone = _optional_phone(contact_phone, school)
            email = _optional_email(contact_email)
            changed = school.change(
                self._clock.now(),
                name=school.name if name is KEEP else name,
                contact_phone=school.contact_phone if phone is KEEP else _text(phone),
                contact_email=school.contact_email if email is KEEP else _text(email),
                settings={} if settings is None else settings,
            )
            if changed:
                uow.commit()
        return school

    def change_student(
        self,
        school_id: str,
        student_id: str,
        *,
        name: str | Keep = KEEP,
        phone: str | Keep | None = KEEP,
        email: str | Keep | None = KEEP,
        address: PostalAddress | Keep | None = KEEP,
    ) -> Student:
        """Change the student's name, phone (read in the school's region), email or address;
        returns the student. Raises NotFound (also for another school's student) or
        InvalidInput (and its kinds) for a bad value."""
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            student = in_school(uow.students.get(student_id), school.id, "student")
            phone_given = _optional_phone(phone, school)
            email_given = _optional_email(email)
            changed = student.change_details(
                self._clock.now(),
                name=student.name if name is KEEP else name,
                phone=student.phone if phone_given is KEEP else phone_given,
                email=student.email if email_given is KEEP else email_given,
                address=student.address if address is KEEP else address,
            )
            if changed:
                uow.commit()
        return student


def _text(value: PhoneNumber | EmailAddress | None) -> str | None:
    """As a school stores its contact details: E.164, or the address."""
    return None if value is None else str(value)


def _optional_phone(raw: object, school: School) -> PhoneNumber | Keep | None:
    """KEEP, None (remove it), or the number read in the school's region."""
    if raw is KEEP or raw is None:
        return raw
    if not isinstance(raw, str):
        raise InvalidInput("a phone number is text, or None to remove it")
    return PhoneNumber.parse(raw, school.phone_region)


def _optional_email(raw: object) -> EmailAddress | Keep | None:
    if raw is KEEP or raw is None:
        return raw
    if not isinstance(raw, str):
        raise InvalidInput("an email address is text, or None to remove it")
    return EmailAddress.parse(raw)

"""Teachers and students, and their contact values: E.164 phone numbers and email addresses."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from attrs import define, field, frozen

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidEmailAddress, InvalidInput, InvalidPhoneNumber
from justdriving.domain.ids import SchoolId, StudentId, TeacherId

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the provider's call.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_e164(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or not _E164.match(value):
        raise InvalidPhoneNumber("a phone number is + and 7 to 15 digits (E.164)")


@frozen
class PhoneNumber:
    """A valid phone number in E.164 form, e.g. `+4520123456`."""

    e164: str = field(validator=_check_e164)

    @classmethod
    def parse(cls, raw: str, region: str) -> PhoneNumber:
        """Parse what a person typed, using `region` (ISO 3166 alpha-2) for national numbers."""
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidPhoneNumber("a phone number is required")
        try:
            parsed = phonenumbers.parse(raw, region.upper())
        except phonenumbers.NumberParseException:
            raise InvalidPhoneNumber("not a phone number") from None
        if not phonenumbers.is_valid_number(parsed):
            raise InvalidPhoneNumber("not a valid phone number for its country")
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    def international(self) -> str:
        """For people to read: `+45 20 12 34 56`."""
        parsed = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def masked(self) -> str:
        """For logs: country code and last two digits only (+45******56)."""
        country = str(phonenumbers.parse(self.e164).country_code)
        hidden = len(self.e164) - 1 - len(country) - 2
        return f"+{country}{'*' * hidden}{self.e164[-2:]}"

    def __str__(self) -> str:
        return self.e164


def _check_email(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        raise InvalidEmailAddress("not an email address")


@frozen
class EmailAddress:
    """An email address; the domain part is kept lower-case."""

    value: str = field(validator=_check_email)

    @classmethod
    def parse(cls, raw: str) -> EmailAddress:
        if not isinstance(raw, str):
            raise InvalidEmailAddress("not an email address")
        local, sep, domain = raw.strip().rpartition("@")
        return cls(f"{local}{sep}{domain.lower()}")

    def masked(self) -> str:
        """For logs: first letter of the local part and the domain (j***@example.com)."""
        local, _, domain = self.value.rpartition("@")
        return f"{local[0]}***@{domain}"

    def __str__(self) -> str:
        return self.value


def _check_name(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInput("a name is 1 to 200 characters")


def _check_optional_language(_: object, __: object, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not _LANGUAGE.match(value)):
        raise InvalidInput("a language is a two-letter code such as da or en")


_LANGUAGE = re.compile(r"^[a-z]{2}$")


@define(eq=False)
class Teacher(Entity):
    """A teacher (instructor); messages to them are in `language`, or the school's if None."""

    id: TeacherId
    school_id: SchoolId
    name: str = field(validator=_check_name)
    phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    active: bool = True
    language: str | None = field(default=None, validator=_check_optional_language)


@define(eq=False)
class Student(Entity):
    id: StudentId
    school_id: SchoolId
    name: str = field(validator=_check_name)
    phone: PhoneNumber | None = None
    email: EmailAddress | None = None
    language: str = "da"
    address: PostalAddress | None = None  # the buyer's address on a full Danish invoice

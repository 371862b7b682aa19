"""Contact values: E.164 phone numbers and email addresses. The settings check them too, so
they load without the people and events models, and without phonenumbers until a number is
parsed, formatted or masked (checking an E.164 form needs no more than its pattern)."""

from __future__ import annotations

import re
from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import InvalidEmailAddress, InvalidPhoneNumber

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
        import phonenumbers

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
        import phonenumbers

        parsed = phonenumbers.parse(self.e164)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def masked(self) -> str:
        """For logs: country code and last two digits only (+45******56)."""
        import phonenumbers

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

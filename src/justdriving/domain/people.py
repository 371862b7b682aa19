"""Teachers and students, with their contact values (`domain.contact`): E.164 phone numbers and
email addresses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from attrs import define, field

from justdriving.domain.addresses import PostalAddress

# Their own module, so that the settings check them without the people and events models;
# re-exported: the fields below take them and most code imports them from here.
from justdriving.domain.contact import EmailAddress as EmailAddress
from justdriving.domain.contact import PhoneNumber as PhoneNumber
from justdriving.domain.entity import Entity
from justdriving.domain.errors import InvalidInput
from justdriving.domain.events import EventLog, StudentDetailsChanged
from justdriving.domain.ids import SchoolId, StudentId, TeacherId


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
    events: EventLog = field(factory=EventLog, repr=False)

    def change_details(
        self,
        now: datetime,
        *,
        name: str,
        phone: PhoneNumber | None,
        email: EmailAddress | None,
        address: PostalAddress | None,
    ) -> tuple[str, ...]:
        """Take the student's details as given (each checked before any is taken, so a
        refusal changes nothing) and record which changed; nothing when none did."""
        _check_name(None, None, name)
        wanted = {"name": name, "phone": phone, "email": email, "address": address}
        for key, kind in (
            ("phone", PhoneNumber),
            ("email", EmailAddress),
            ("address", PostalAddress),
        ):
            if wanted[key] is not None and not isinstance(wanted[key], kind):
                raise InvalidInput(f"a student's {key} is a {kind.__name__} or None")
        changed = tuple(key for key, value in wanted.items() if getattr(self, key) != value)
        if changed:
            self.name, self.phone, self.email, self.address = name, phone, email, address
            self.events.record(
                StudentDetailsChanged(now, self.id, changed, school_id=self.school_id)
            )
        return changed

"""Registering schools, teachers, students and booking types."""

from __future__ import annotations

from datetime import timedelta

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.bookings import BookingType, CancellationPolicy
from justdriving.domain.errors import InvalidInput
from justdriving.domain.ids import BookingTypeId, SchoolId, StudentId, TeacherId, new_id
from justdriving.domain.money import Money
from justdriving.domain.people import EmailAddress, PhoneNumber, Student, Teacher
from justdriving.domain.schools import LANGUAGES, School, SchoolSettings
from justdriving.ports.persistence import UnitOfWorkFactory


class Registration:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def register_school(
        self,
        name: str,
        *,
        currency: str = "DKK",
        timezone: str = "Europe/Copenhagen",
        phone_region: str = "DK",
        vat_number: str | None = None,
        settings: SchoolSettings | None = None,
        contact_phone: str | None = None,
        contact_email: str | None = None,
    ) -> School:
        school = School(
            id=SchoolId(new_id("sch")),
            name=name,
            currency=currency,
            timezone=timezone,
            phone_region=phone_region,
            vat_number=vat_number,
            settings=SchoolSettings() if settings is None else settings,
            contact_phone=PhoneNumber.parse(contact_phone, phone_region).e164
            if contact_phone is not None
            else None,
            contact_email=EmailAddress.parse(contact_email).value
            if contact_email is not None
            else None,
        )
        with self._uow() as uow:
            uow.schools.add(school)
            uow.commit()
        return school

    def add_teacher(
        self,
        school_id: str,
        name: str,
        *,
        phone: str | None = None,
        email: str | None = None,
        language: str | None = None,
    ) -> Teacher:
        """A teacher of the school; their messages are in `language` (da or en), or in the
        school's language while they have none."""
        if language is not None and language not in LANGUAGES:
            raise InvalidInput(f"language must be one of {sorted(LANGUAGES)}")
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            teacher = Teacher(
                id=TeacherId(new_id("tch")),
                school_id=school.id,
                name=name,
                phone=_phone(phone, school),
                email=_email(email),
                language=language,
            )
            uow.teachers.add(teacher)
            uow.commit()
        return teacher

    def add_student(
        self,
        school_id: str,
        name: str,
        *,
        phone: str | None = None,
        email: str | None = None,
        language: str | None = None,
        address: PostalAddress | None = None,
    ) -> Student:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            language = school.settings.language if language is None else language
            if language not in ("da", "en"):
                raise InvalidInput("language must be da or en")
            if address is not None and not isinstance(address, PostalAddress):
                raise InvalidInput("a student's address is a PostalAddress")
            student = Student(
                id=StudentId(new_id("stu")),
                school_id=school.id,
                name=name,
                phone=_phone(phone, school),
                email=_email(email),
                language=language,
                address=address,
            )
            uow.students.add(student)
            uow.commit()
        return student

    def add_booking_type(
        self,
        school_id: str,
        name: str,
        *,
        duration: timedelta,
        price: Money,
        policy: CancellationPolicy | None = None,
        deposit: Money | None = None,
    ) -> BookingType:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            if price.currency != school.currency:
                raise InvalidInput(f"{school.name} prices are in {school.currency}")
            booking_type = BookingType(
                id=BookingTypeId(new_id("bt")),
                school_id=school.id,
                name=name,
                duration=duration,
                price=price,
                policy=policy or CancellationPolicy(),
                deposit=deposit,
            )
            uow.booking_types.add(booking_type)
            uow.commit()
        return booking_type


def _phone(raw: str | None, school: School) -> PhoneNumber | None:
    return PhoneNumber.parse(raw, school.phone_region) if raw else None


def _email(raw: str | None) -> EmailAddress | None:
    return EmailAddress.parse(raw) if raw else None

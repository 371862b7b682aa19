"""Registering schools, teachers, students and booking types."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import (
    InvalidEmailAddress,
    InvalidInput,
    InvalidMoney,
    InvalidPhoneNumber,
    NotFound,
)
from justdriving.domain.people import EmailAddress, PhoneNumber

from .support import World, dkk, eur, record, snapshot


class TestRegisterSchool:
    def test_a_school_is_stored_with_its_currency_timezone_and_region(
        self, app: Application, store: MemoryStore
    ) -> None:
        school = app.register_school(
            "Solo Kørsel", currency="EUR", timezone="Europe/Berlin", phone_region="DE"
        )

        stored = record(store, "schools", school.id)
        assert (stored.name, stored.currency, stored.timezone, stored.phone_region) == (
            "Solo Kørsel",
            "EUR",
            "Europe/Berlin",
            "DE",
        )

    @pytest.mark.parametrize("timezone", ["Europe/Kobenhavn", "", "UTC+1"])
    def test_an_unknown_timezone_is_refused(
        self, app: Application, store: MemoryStore, timezone: str
    ) -> None:
        with pytest.raises(InvalidInput, match="timezone"):
            app.register_school("X", timezone=timezone)
        assert store.count("schools") == 0

    @pytest.mark.parametrize("currency", ["dkk", "DKR", "XXX", ""])
    def test_an_unknown_currency_is_refused(
        self, app: Application, store: MemoryStore, currency: str
    ) -> None:
        with pytest.raises(InvalidMoney):
            app.register_school("X", currency=currency)
        assert store.count("schools") == 0

    def test_a_school_needs_a_name(self, app: Application, store: MemoryStore) -> None:
        with pytest.raises(InvalidInput):
            app.register_school("  ")
        assert store.count("schools") == 0


class TestAddPeople:
    def test_a_danish_number_typed_nationally_is_stored_in_e164(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        student = app.add_student(world.school.id, "Carl", phone="20 12 34 56")

        assert record(store, "students", student.id).phone == PhoneNumber("+4520123456")

    def test_a_number_is_parsed_with_the_schools_region(
        self, app: Application, store: MemoryStore
    ) -> None:
        school = app.register_school(
            "Fahrschule", currency="EUR", timezone="Europe/Berlin", phone_region="DE"
        )

        student = app.add_student(school.id, "Greta", phone="030 123456")
        teacher = app.add_teacher(school.id, "Hans", phone="+45 20 12 34 56")

        assert record(store, "students", student.id).phone == PhoneNumber("+4930123456")
        assert record(store, "teachers", teacher.id).phone == PhoneNumber("+4520123456")

    def test_the_email_domain_is_kept_in_lower_case(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        student = app.add_student(world.school.id, "Dea", email="Dea.Dahl@Example.DK")

        assert record(store, "students", student.id).email == EmailAddress("Dea.Dahl@example.dk")

    @pytest.mark.parametrize("phone", ["12", "not a number", "+45 1234", "+999 123456789"])
    def test_a_bad_phone_number_is_refused(
        self, app: Application, world: World, store: MemoryStore, phone: str
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidPhoneNumber):
            app.add_student(world.school.id, "Carl", phone=phone)
        with pytest.raises(InvalidPhoneNumber):
            app.add_teacher(world.school.id, "Carl", phone=phone)
        assert snapshot(store) == before

    @pytest.mark.parametrize("address", ["anna", "anna@", "anna@example", "a b@example.dk"])
    def test_a_bad_email_address_is_refused(
        self, app: Application, world: World, store: MemoryStore, address: str
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidEmailAddress):
            app.add_student(world.school.id, "Carl", email=address)
        with pytest.raises(InvalidEmailAddress):
            app.add_teacher(world.school.id, "Carl", email=address)
        assert snapshot(store) == before

    def test_a_student_speaks_the_schools_language_unless_told(
        self, app: Application, world: World
    ) -> None:
        assert app.add_student(world.school.id, "Eva").language == "da"
        assert app.add_student(world.school.id, "Finn", language="en").language == "en"
        with pytest.raises(InvalidInput):
            app.add_student(world.school.id, "Gry", language="sv")

    def test_people_are_added_to_a_school_that_exists_only(
        self, app: Application, store: MemoryStore
    ) -> None:
        with pytest.raises(NotFound):
            app.add_student("sch_missing", "Anna")
        with pytest.raises(NotFound):
            app.add_teacher("sch_missing", "Lars")
        assert store.count("students") == store.count("teachers") == 0


class TestAddBookingType:
    def test_a_booking_type_keeps_its_price_deposit_and_policy(
        self, world: World, store: MemoryStore
    ) -> None:
        stored = record(store, "booking_types", world.lesson.id)

        assert stored.duration == timedelta(minutes=45)
        assert (stored.price, stored.deposit) == (dkk("500.00"), dkk("100.00"))
        assert [t.percent for t in stored.policy.tiers] == [50, 100]

    def test_a_price_in_another_currency_than_the_schools_is_refused(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.add_booking_type(
                world.school.id, "Euro lesson", duration=timedelta(minutes=45), price=eur("60.00")
            )
        assert snapshot(store) == before

    @pytest.mark.parametrize(
        ("duration", "price", "deposit"),
        [
            (timedelta(0), "500.00", None),
            (timedelta(minutes=45), "-1.00", None),
            (timedelta(minutes=45), "500.00", "600.00"),
            (timedelta(minutes=45), "500.00", "0.00"),
        ],
    )
    def test_a_booking_type_needs_a_duration_a_price_and_a_sane_deposit(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        duration: timedelta,
        price: str,
        deposit: str | None,
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.add_booking_type(
                world.school.id,
                "Odd",
                duration=duration,
                price=dkk(price),
                deposit=dkk(deposit) if deposit else None,
            )
        assert snapshot(store) == before

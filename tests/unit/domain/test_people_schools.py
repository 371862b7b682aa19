"""Contact values (E.164 phone numbers, email addresses) and a school's own settings."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from justdriving.domain.addresses import PostalAddress
from justdriving.domain.errors import (
    InvalidCvrNumber,
    InvalidEmailAddress,
    InvalidInput,
    InvalidPhoneNumber,
)
from justdriving.domain.ids import SchoolId, StudentId
from justdriving.domain.people import EmailAddress, PhoneNumber, Student
from justdriving.domain.schools import QuietHours, School, SchoolSettings


class TestPhoneNumbers:
    @pytest.mark.parametrize(
        "raw", ["20 12 34 56", "20123456", "+45 20123456", "+45 20 12 34 56", "0045 20123456"]
    )
    def test_a_danish_mobile_number_is_stored_in_e164(self, raw):
        assert PhoneNumber.parse(raw, "DK").e164 == "+4520123456"

    def test_the_region_is_read_case_insensitively(self):
        assert PhoneNumber.parse("20 12 34 56", "dk").e164 == "+4520123456"

    def test_a_number_with_its_own_country_code_ignores_the_default_region(self):
        assert PhoneNumber.parse("+46 70 123 45 67", "DK").e164 == "+46701234567"

    @pytest.mark.parametrize(
        "raw", ["", "   ", "abc", "1234", "20 12 34", "+45 0000 0000", "+999 1"]
    )
    def test_what_is_not_a_valid_number_is_refused(self, raw):
        with pytest.raises(InvalidPhoneNumber):
            PhoneNumber.parse(raw, "DK")

    @pytest.mark.parametrize(
        "e164", ["4520123456", "+45 20123456", "+0123456789", "+1234567890123456"]
    )
    def test_only_e164_is_accepted_directly(self, e164):
        with pytest.raises(InvalidPhoneNumber):
            PhoneNumber(e164)

    @pytest.mark.parametrize(
        ("raw", "region", "masked"),
        [
            ("20 12 34 56", "DK", "+45******56"),
            ("+44 7911 123456", "GB", "+44********56"),
            ("+1 202 555 0123", "US", "+1********23"),
            ("+298 21 12 34", "DK", "+298****34"),  # Faroe Islands
        ],
    )
    def test_a_masked_number_shows_only_the_country_code_and_the_last_two_digits(
        self, raw, region, masked
    ):
        assert PhoneNumber.parse(raw, region).masked() == masked


class TestEmailAddresses:
    def test_the_domain_is_lower_cased_and_the_local_part_kept(self):
        assert EmailAddress.parse("  Jens.Hansen@Example.DK ").value == "Jens.Hansen@example.dk"

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "jens",
            "jens@",
            "@example.dk",
            "jens@example",
            "jens hansen@example.dk",
            "jens@@example.dk",
            "a" * 250 + "@example.dk",
        ],
    )
    def test_what_is_not_an_email_address_is_refused(self, raw):
        with pytest.raises(InvalidEmailAddress):
            EmailAddress.parse(raw)

    def test_a_masked_address_shows_only_the_first_letter_and_the_domain(self):
        assert EmailAddress("jens.hansen@example.dk").masked() == "j***@example.dk"

    def test_a_student_is_named(self):
        with pytest.raises(InvalidInput):
            Student(id=StudentId("stu_1"), school_id=SchoolId("sch_1"), name="  ")


class TestSchools:
    def test_a_danish_school_by_default_uses_kroner_copenhagen_time_and_dk_numbers(self):
        school = School(id=SchoolId("sch_1"), name="Køreskolen")

        assert (school.currency, school.timezone, school.phone_region) == (
            "DKK",
            "Europe/Copenhagen",
            "DK",
        )

    @pytest.mark.parametrize("tz", ["Europe/Kobenhavn", "CET+1", "", "../etc/passwd"])
    def test_an_unknown_timezone_is_refused(self, tz):
        with pytest.raises(InvalidInput):
            School(id=SchoolId("sch_1"), name="Køreskolen", timezone=tz)

    @pytest.mark.parametrize("currency", ["KR", "ZZZ", "dkk", "XXX"])
    def test_an_unknown_currency_is_refused(self, currency):
        with pytest.raises(InvalidInput):
            School(id=SchoolId("sch_1"), name="Køreskolen", currency=currency)

    @pytest.mark.parametrize("region", ["DNK", "4", ""])
    def test_a_phone_region_is_a_two_letter_country_code(self, region):
        with pytest.raises(InvalidInput):
            School(id=SchoolId("sch_1"), name="Køreskolen", phone_region=region)

    def test_a_school_writes_in_danish_or_english_only(self):
        with pytest.raises(InvalidInput):
            SchoolSettings(language="de")


class TestQuietHours:
    @pytest.mark.parametrize(
        ("local", "quiet"),
        [
            (time(20, 59), False),
            (time(21, 0), True),
            (time(23, 59), True),
            (time(0, 0), True),
            (time(7, 59), True),
            (time(8, 0), False),
            (time(12, 0), False),
        ],
    )
    def test_quiet_hours_from_nine_in_the_evening_to_eight_in_the_morning_wrap_midnight(
        self, local, quiet
    ):
        assert QuietHours(time(21, 0), time(8, 0)).contains(local) is quiet

    @pytest.mark.parametrize(
        ("local", "quiet"), [(time(12, 59), False), (time(13, 0), True), (time(14, 0), False)]
    )
    def test_quiet_hours_within_one_day_do_not_wrap(self, local, quiet):
        assert QuietHours(time(13, 0), time(14, 0)).contains(local) is quiet

    @pytest.mark.parametrize(
        ("moment", "quiet"),
        [
            (datetime(2025, 1, 15, 20, 30, tzinfo=UTC), True),  # 21:30 in Copenhagen (CET)
            (datetime(2025, 1, 15, 19, 30, tzinfo=UTC), False),  # 20:30 CET
            (datetime(2025, 7, 15, 19, 30, tzinfo=UTC), True),  # 21:30 CEST
            (datetime(2025, 7, 15, 6, 30, tzinfo=UTC), False),  # 08:30 CEST
        ],
    )
    def test_a_school_judges_quiet_hours_by_its_own_local_time(self, moment, quiet):
        assert School(id=SchoolId("sch_1"), name="Køreskolen").in_quiet_hours(moment) is quiet

    def test_a_school_without_quiet_hours_is_never_quiet(self):
        school = School(
            id=SchoolId("sch_1"), name="Køreskolen", settings=SchoolSettings(quiet_hours=None)
        )

        assert not school.in_quiet_hours(datetime(2025, 1, 15, 2, 0, tzinfo=UTC))


# The seller's and buyer's details of a full Danish invoice ---------------------------------


@pytest.mark.parametrize("cvr", ["1234567", "123456789", "DK12345678", "1234 5678", "", 12345678])
def test_a_cvr_number_is_exactly_8_digits_or_refused_by_name(cvr: object) -> None:
    with pytest.raises(InvalidCvrNumber, match="exactly 8 digits"):
        SchoolSettings(cvr_number=cvr)  # type: ignore[arg-type]


def test_a_school_keeps_its_cvr_number_and_address() -> None:
    address = PostalAddress("Vestergade 1", "8000", "Aarhus C")
    settings = SchoolSettings(cvr_number="12345678", address=address)
    assert (settings.cvr_number, settings.address) == ("12345678", address)
    assert address.lines() == ("Vestergade 1", "8000 Aarhus C")
    assert PostalAddress("Storgatan 2", "211 34", "Malmö", "SE").lines()[-1] == "SE"


@pytest.mark.parametrize(
    "fields",
    [("", "8000", "Aarhus"), ("Vestergade 1", " ", "Aarhus"), ("Vestergade 1", "8000", "")],
)
def test_an_address_needs_a_street_postcode_and_city(fields: tuple[str, str, str]) -> None:
    with pytest.raises(InvalidInput, match="address"):
        PostalAddress(*fields)


def test_an_address_country_is_an_iso_code() -> None:
    with pytest.raises(InvalidInput, match="ISO 3166"):
        PostalAddress("Vestergade 1", "8000", "Aarhus", country="Denmark")

"""Domain values refuse what they cannot hold with InvalidInput, whoever builds them: times
out of range or naive, spans that overflow, lines with a service that is no InvoiceService,
settings, policies and contact details of the wrong kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.bookings import (
    BookingType,
    CancellationPolicy,
    FeeTier,
    TimeSlot,
)
from justdriving.domain.errors import InvalidInput, JustDrivingError
from justdriving.domain.ids import BookingTypeId, PackageId, SchoolId, StudentId
from justdriving.domain.invoices import InvoiceLine
from justdriving.domain.moments import EARLIEST, LATEST, check_moment, shifted
from justdriving.domain.packages import LessonPackage
from justdriving.domain.people import PhoneNumber
from justdriving.domain.schools import InvoiceService, School, SchoolSettings
from justdriving.domain.services.invoicing import LineItem

from .builders import VAT_25, dkk

FAR_EAST = timezone(timedelta(hours=14))
FAR_WEST = timezone(timedelta(hours=-12))


class TestMoments:
    @pytest.mark.parametrize(
        "when",
        [
            datetime(2025, 3, 3, 9, 0),  # naive
            datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(9999, 12, 31, 23, 0, tzinfo=FAR_WEST),  # past datetime.max in UTC
            datetime(1, 1, 1, tzinfo=FAR_EAST),  # before datetime.min in UTC
            "2025-03-03T09:00:00+00:00",
            1_741_000_000,
        ],
    )
    def test_a_time_that_is_naive_out_of_range_or_not_a_datetime_is_refused(self, when: Any):
        with pytest.raises(InvalidInput):
            check_moment(when)

    @given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30)))
    def test_any_aware_time_inside_the_range_is_kept_as_it_is(self, when: datetime):
        aware = when.replace(tzinfo=UTC)

        assert check_moment(aware) is aware

    @given(
        st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2999, 12, 31)),
        st.timedeltas(),
    )
    def test_shifting_a_time_never_overflows_it_lands_in_range_or_is_refused(self, when, span):
        start = when.replace(tzinfo=UTC)
        try:
            result = shifted(start, span)
        except InvalidInput:
            return
        assert EARLIEST <= result < LATEST
        assert result - start == span


class TestTimeSlotsAndBookingTypes:
    @pytest.mark.parametrize(
        "start", [datetime(9999, 12, 31, 23, 30, tzinfo=UTC), datetime(2025, 3, 3, 9, 0)]
    )
    def test_a_slot_starting_out_of_range_or_naive_is_refused_not_overflowed(self, start):
        with pytest.raises(InvalidInput):
            TimeSlot.starting(start, timedelta(minutes=45))

    @pytest.mark.parametrize(
        "duration", [timedelta.max, timedelta(days=1, seconds=1), timedelta(0), 45, "45m"]
    )
    def test_a_booking_type_lasts_a_positive_timedelta_of_at_most_a_day(self, duration: Any):
        with pytest.raises(InvalidInput):
            _booking_type(duration=duration)

    @pytest.mark.parametrize(
        "changes",
        [
            {"price": 500},
            {"price": 500.0},
            {"policy": "strict"},
            {"policy": {"free_until_hours": 24}},
            {"deposit": 100},
        ],
    )
    def test_a_booking_type_refuses_prices_and_policies_of_the_wrong_kind(self, changes):
        with pytest.raises(InvalidInput):
            _booking_type(**changes)

    @pytest.mark.parametrize(
        "build",
        [
            lambda: CancellationPolicy(tiers=["50%"]),  # type: ignore[list-item]
            lambda: CancellationPolicy(tiers="50%"),  # type: ignore[arg-type]
            lambda: CancellationPolicy(free_until_hours=10**12),
            lambda: CancellationPolicy(free_until_hours=True),
            lambda: FeeTier(within_hours=24, percent="50"),  # type: ignore[arg-type]
            lambda: FeeTier(within_hours=24, flat=100),  # type: ignore[arg-type]
            lambda: FeeTier(within_hours=10**12, percent=50),
        ],
    )
    def test_a_cancellation_policy_refuses_tiers_and_hours_of_the_wrong_kind(self, build):
        with pytest.raises(InvalidInput):
            build()


class TestInvoiceLines:
    @pytest.mark.parametrize("service", ["lesson", None, 1])
    def test_a_line_whose_service_is_not_an_invoice_service_is_refused(self, service: Any):
        with pytest.raises(InvalidInput):
            InvoiceLine(service, "Lektion", 1, dkk("500.00"), VAT_25)
        with pytest.raises(InvalidInput):
            LineItem(service, "Lektion", dkk("500.00"))

    @pytest.mark.parametrize(
        ("description", "price"), [(None, dkk("1.00")), ("Bog", 100), ("Bog", 1.0)]
    )
    def test_a_line_needs_a_text_description_and_a_money_price(self, description, price):
        with pytest.raises(InvalidInput):
            InvoiceLine(InvoiceService.MATERIALS, description, 1, price, VAT_25)
        with pytest.raises(InvalidInput):
            LineItem(InvoiceService.MATERIALS, description, price)


class TestPackages:
    @pytest.mark.parametrize(
        "expires_at", [datetime(2025, 4, 1), datetime(9999, 1, 1, tzinfo=UTC), "2025-04-01"]
    )
    def test_a_package_expiry_is_an_aware_time_in_range(self, expires_at: Any):
        with pytest.raises(InvalidInput):
            LessonPackage(
                id=PackageId("pkg_1"),
                school_id=SchoolId("sch_1"),
                student_id=StudentId("stu_1"),
                booking_type_id=BookingTypeId("bt_1"),
                lessons=5,
                price=dkk("2250.00"),
                single_lesson_price=dkk("500.00"),
                expires_at=expires_at,
            )


class TestSchools:
    @pytest.mark.parametrize(
        "changes",
        [
            {"settings": {"language": "en"}},
            {"settings": None},
            {"contact_phone": "20 12 34 56"},  # not parsed to E.164
            {"contact_phone": "123"},
            {"contact_email": "kontor@"},
            {"contact_email": 42},
            {"vat_number": 12345678},
            {"vat_registered": "yes"},
        ],
    )
    def test_a_school_refuses_settings_and_contact_details_of_the_wrong_kind(self, changes):
        with pytest.raises(JustDrivingError):
            School(id=SchoolId("sch_1"), name="Køreskolen", **changes)

    def test_a_school_keeps_a_parsed_contact_phone_and_email(self):
        school = School(
            id=SchoolId("sch_1"),
            name="Køreskolen",
            contact_phone=PhoneNumber.parse("70 20 30 40", "DK").e164,
            contact_email="kontor@example.dk",
        )

        assert school.contact_phone == "+4570203040"

    @pytest.mark.parametrize(
        "changes",
        [
            {"booking_horizon_days": "90"},
            {"booking_horizon_days": 10**9},
            {"booking_lead_time_hours": -1},
            {"invoice_due_days": 14.0},
            {"sms_enabled": "no"},
            {"deposit_required": 1},
            {"sms_message_types": ["reminder"]},
            {"quiet_hours": "21-08"},
            {"branding": None},
            {"account_map": {"lesson": "1000"}},
            {"sms_max_segments": {"reminder": 0}},
            {"vat_rate": 2500},
            {"payment_gateway": 1},
        ],
    )
    def test_school_settings_refuse_values_of_the_wrong_kind_or_out_of_range(self, changes):
        with pytest.raises(InvalidInput):
            evolve(SchoolSettings(), **changes)


def _booking_type(**changes: Any) -> BookingType:
    fields: dict[str, Any] = {
        "id": BookingTypeId("bt_1"),
        "school_id": SchoolId("sch_1"),
        "name": "Lektion",
        "duration": timedelta(minutes=45),
        "price": dkk("500.00"),
    }
    fields.update(changes)
    return BookingType(**fields)

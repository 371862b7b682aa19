"""Amounts and days as the reader of a message expects them."""

from __future__ import annotations

from datetime import UTC, datetime

from justdriving.domain.formatting import day, day_and_time, line_text, money
from justdriving.domain.money import Money


def test_danish_kroner_read_as_danes_write_them() -> None:
    assert money(Money(125050, "DKK"), "da") == "1.250,50 kr."


def test_english_puts_the_code_first_with_a_thousands_comma() -> None:
    assert money(Money(125050, "DKK"), "en") == "DKK 1,250.50"


def test_other_currencies_keep_their_code_and_their_decimals() -> None:
    assert money(Money(1500, "JPY"), "da") == "1.500 JPY"
    assert money(Money(1234, "BHD"), "en") == "BHD 1.234"


def test_a_day_is_the_schools_calendar_day() -> None:
    late_evening_utc = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert day(late_evening_utc, "Europe/Copenhagen", "en") == "2026-03-11"


def test_each_language_has_one_date_format() -> None:
    evening = datetime(2026, 12, 21, 18, 0, tzinfo=UTC)
    assert day(evening, "Europe/Copenhagen", "da") == "21.12.2026"
    assert day(evening, "Europe/Copenhagen", "en") == "2026-12-21"
    assert day_and_time(evening, "Europe/Copenhagen", "da") == "21.12.2026 19:00"
    assert day_and_time(evening, "Europe/Copenhagen", "en") == "2026-12-21 19:00"


def test_fee_lines_are_written_in_the_invoices_language() -> None:
    assert line_text("late_cancellation", "da", "Køretime") == "Sen afbestilling: Køretime"
    assert line_text("no_show", "en", "Lesson") == "No-show: Lesson"

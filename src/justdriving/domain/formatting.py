"""Money and dates as a reader of a message expects them, in Danish or English."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from justdriving.domain.money import Money


def money(amount: Money, language: str) -> str:
    """`1.250,00 kr.` in Danish for DKK, `DKK 1,250.00` in English; other currencies by code."""
    decimals = amount.to_decimal()
    english = f"{decimals:,}"
    if language == "da":
        danish = english.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return f"{danish} kr." if amount.currency == "DKK" else f"{danish} {amount.currency}"
    return f"{amount.currency} {english}"


# One date format per language, in messages and documents alike: 21.12.2026 and 2026-12-21.
DATE_FORMATS: Final = {"da": "%d.%m.%Y", "en": "%Y-%m-%d"}


def date_text(value: date, language: str) -> str:
    """A calendar day as `language` writes it (Danish for a language without a format)."""
    return value.strftime(DATE_FORMATS.get(language, DATE_FORMATS["da"]))


def day(moment: datetime, timezone: str, language: str) -> str:
    """The calendar day of `moment` in the school's timezone, as `language` writes it."""
    return date_text(moment.astimezone(ZoneInfo(timezone)).date(), language)


def day_and_time(moment: datetime, timezone: str, language: str) -> str:
    """`21.12.2026 09:30` or `2026-12-21 09:30`, in the school's timezone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{date_text(local.date(), language)} {local:%H:%M}"


# What the platform itself writes on an invoice line, in the document's language.
_LINE_TEXTS: Final = {
    "da": {"late_cancellation": "Sen afbestilling: {}", "no_show": "Udeblevet: {}"},
    "en": {"late_cancellation": "Late cancellation: {}", "no_show": "No-show: {}"},
}


def line_text(kind: str, language: str, what: str) -> str:
    """A line's text for a fee (`late_cancellation`, `no_show`) of `what`, in `language`."""
    return _LINE_TEXTS.get(language, _LINE_TEXTS["da"])[kind].format(what)

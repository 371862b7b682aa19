"""Money and dates as a reader of a message expects them, in Danish or English."""

from __future__ import annotations

from datetime import datetime
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


def day(moment: datetime, timezone: str) -> str:
    """The calendar day in the school's timezone, as ISO 8601 (unambiguous in both languages)."""
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()

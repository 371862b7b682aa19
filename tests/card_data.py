"""What must never be stored or logged: a card number (a PAN). Cards are saved and charged at
the provider; we keep its ids and brand, last 4 and expiry only. The SQL fixtures scan every
database a test leaves behind, and the crash campaign scans every log line its processes wrote.

A PAN here is 16 to 19 digits (15 for American Express, 14 for Diners; spaces or dashes
allowed between them) with a card network's prefix and a valid Luhn check digit. Phone
numbers (at most 15 digits, E.164), ids, amounts and times are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Engine, select

_CANDIDATE = re.compile(r"(?<![\d\w])\d(?:[ -]?\d){12,18}(?![\d\w])")
# Visa, Mastercard (51-55, 2221-2720), American Express, Discover, JCB, Diners, UnionPay.
_NETWORK = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38|62)")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_length(digits: str) -> bool:
    if digits.startswith(("34", "37")):
        return len(digits) == 15
    if digits.startswith(("30", "36", "38")):
        return 14 <= len(digits) <= 19
    return 16 <= len(digits) <= 19


def card_numbers(text: str) -> list[str]:
    """The card numbers in `text`, masked to their last 4 for the failure message."""
    found = []
    for match in _CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _card_length(digits) and _NETWORK.match(digits) and _luhn(digits):
            found.append(f"****{digits[-4:]}")
    return found


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict | list | tuple):
        yield repr(value)


def stored_card_numbers(engine: Engine) -> list[str]:
    """Every card number in any column of any table of the schema: `table.column: ****1234`."""
    from justdriving.adapters.sql.tables import metadata

    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    for text in _texts(value):
                        found += [f"{table.name}.{column}: {pan}" for pan in card_numbers(text)]
    return found


def logged_card_numbers(lines: Iterable[str]) -> list[str]:
    return [pan for line in lines for pan in card_numbers(line)]

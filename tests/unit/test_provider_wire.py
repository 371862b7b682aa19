"""Shared wire details of the HTTP adapters: Retry-After and exact JSON amounts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from justdriving.adapters import exact_json
from justdriving.adapters.accounting.quickbooks.payloads import amount
from justdriving.domain.money import Money


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_takes_finite_non_negative_seconds_only(
    header: str | None, seconds: float | None
) -> None:
    from justdriving.adapters.retry_after import retry_after_seconds

    assert retry_after_seconds(header) == seconds


def test_an_amount_goes_on_the_wire_as_the_exact_decimal_never_a_float() -> None:
    large = Money(123456789012345678, "DKK")  # beyond a float's 15-17 significant digits

    wire = exact_json.encode({"Amount": amount(large), "Fee": amount(Money(10, "DKK"))})

    assert wire == b'{"Amount": 1234567890123456.78, "Fee": 0.10}'
    assert exact_json.decode(wire)["Amount"] == Decimal("1234567890123456.78")
    assert json.loads(wire)["Fee"] == 0.1  # still a plain JSON number for the provider


def test_only_decimals_are_written_as_numbers() -> None:
    with pytest.raises(TypeError):
        exact_json.encode({"when": object()})

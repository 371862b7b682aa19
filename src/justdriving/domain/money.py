"""Money: an integer count of minor units and an ISO 4217 currency. Never a float."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from functools import total_ordering
from typing import Any

import iso4217
from attrs import field, frozen

from justdriving.domain.errors import CurrencyMismatch, InvalidMoney

# At most 18 digits of minor units: every amount fits a signed 64-bit integer and Decimal's
# default 28-digit context, so every backend, provider adapter and export holds it exactly.
MAX_AMOUNT = 10**18 - 1
# What a person types: digits, optionally a point and more digits, optionally a sign. ASCII
# only: no exponent ("1e30"), no digit grouping ("1_000", "1,000"), no other scripts' digits.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def currency_exponent(code: str) -> int:
    """Decimals of `code` per the ISO 4217 table (DKK 2, JPY 0, BHD 3)."""
    try:
        exponent = iso4217.Currency(code).exponent
    except ValueError:
        raise InvalidMoney(f"unknown currency {code!r}") from None
    if exponent is None:
        raise InvalidMoney(f"{code} has no minor unit and cannot be used for payments")
    return exponent


def _check_amount(_: object, __: object, value: Any) -> None:
    if type(value) is not int:
        raise InvalidMoney(f"amount must be an int of minor units, not {type(value).__name__}")
    if abs(value) > MAX_AMOUNT:
        raise InvalidMoney("an amount has at most 18 digits of minor units")


def _check_currency(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) != 3 or not value.isupper():
        raise InvalidMoney(f"currency must be an upper-case ISO 4217 code, got {value!r}")
    currency_exponent(value)


@total_ordering
@frozen
class Money:
    """`Money(12550, "DKK")` is 125.50 kr. Arithmetic refuses mixed currencies."""

    amount: int = field(validator=_check_amount)
    currency: str = field(validator=_check_currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str | Decimal, currency: str) -> Money:
        """From plain decimal notation ("125.50", "-3", ASCII digits, no exponent or grouping)
        or a finite Decimal; refuses floats and surplus decimals."""
        if isinstance(text, str):
            if not _PLAIN_DECIMAL.fullmatch(text.strip()):
                raise InvalidMoney(f"not a plain decimal amount such as 125.50: {text!r}")
            value = Decimal(text.strip())
        elif isinstance(text, Decimal):
            value = text
        else:
            raise InvalidMoney("amounts are parsed from decimal strings, never floats")
        if not value.is_finite():
            raise InvalidMoney(f"not a finite amount: {text!r}")
        return cls(_minor_units(value, currency, text), currency)

    def to_decimal(self) -> Decimal:
        """The exact decimal value (125.50), whatever the amount's size: no context rounding."""
        digits = tuple(int(d) for d in str(abs(self.amount)))
        return Decimal((int(self.amount < 0), digits, -currency_exponent(self.currency)))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if type(factor) is not int:
            raise InvalidMoney("money is multiplied by whole numbers only; use allocate for shares")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split exactly by integer ratios; leftover minor units go to the first parts."""
        if not ratios or any(type(r) is not int or r < 0 for r in ratios) or sum(ratios) == 0:
            raise InvalidMoney("ratios must be non-negative ints with a positive sum")
        total = sum(ratios)
        sign = -1 if self.amount < 0 else 1
        magnitude = abs(self.amount)
        shares = [magnitude * r // total for r in ratios]
        remainder = magnitude - sum(shares)
        # Largest-remainder order keeps each share within one minor unit of its exact value.
        order = sorted(range(len(ratios)), key=lambda i: (-(magnitude * ratios[i] % total), i))
        for i in order[:remainder]:
            shares[i] += 1
        return [Money(sign * s, self.currency) for s in shares]

    def split(self, parts: int) -> list[Money]:
        """Split into `parts` near-equal amounts that sum exactly to this one."""
        if type(parts) is not int or parts < 1:
            raise InvalidMoney("parts must be a positive int")
        return self.allocate([1] * parts)

    def percent(self, basis_points: int) -> Money:
        """This amount times basis_points / 10 000, rounded half up on minor units."""
        return Money(round_half_up(self.amount * basis_points, 10_000), self.currency)

    def __str__(self) -> str:
        return f"{self.to_decimal():,} {self.currency}"


def _minor_units(value: Decimal, currency: str, text: object) -> int:
    """`value` in minor units of `currency`, exactly (no Decimal context is involved)."""
    places = currency_exponent(currency)
    if value.copy_abs() > Decimal((0, tuple(int(d) for d in str(MAX_AMOUNT)), -places)):
        raise InvalidMoney("an amount has at most 18 digits of minor units")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked by the caller
    kept = list(digits)
    shift = exponent + places
    while shift < 0 and kept and kept[-1] == 0:  # trailing zeros after the point are no decimals
        kept.pop()
        shift += 1
    if shift < 0 and any(kept):
        raise InvalidMoney(f"{text!r} has more decimals than {currency} allows")
    scale: int = 10 ** max(shift, 0)
    magnitude = int("".join(map(str, kept)) or "0") * scale
    return -magnitude if sign else magnitude


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in exact integer arithmetic."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def total(amounts: Sequence[Money], currency: str) -> Money:
    """Sum of `amounts`, all in `currency`; zero when empty."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result

"""VAT: rates in basis points, VAT-inclusive and -exclusive amounts, rounded half up per line."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money, round_half_up


def _check_rate(_: object, __: object, value: Any) -> None:
    if type(value) is not int or not 0 <= value <= 10_000:
        raise InvalidInput("a VAT rate is an int of basis points from 0 to 10000 (2500 = 25 %)")


@frozen
class TaxRate:
    """A VAT rate in basis points: `TaxRate(2500)` is Denmark's 25 %."""

    basis_points: int = field(validator=_check_rate)

    @classmethod
    def zero(cls) -> TaxRate:
        return cls(0)

    def vat_included_in(self, gross: Money) -> Money:
        """The VAT part of a VAT-inclusive amount (25 % of net = 20 % of gross)."""
        return Money(
            round_half_up(gross.amount * self.basis_points, 10_000 + self.basis_points),
            gross.currency,
        )

    def vat_on(self, net: Money) -> Money:
        """VAT to add to a VAT-exclusive amount."""
        return net.percent(self.basis_points)

    def __str__(self) -> str:
        whole, part = divmod(self.basis_points, 100)
        return f"{whole}.{part:02d} %" if part else f"{whole} %"


@frozen
class Amounts:
    """Net, VAT and gross of one line or one document; gross == net + vat always."""

    net: Money
    vat: Money
    gross: Money

    @classmethod
    def zero(cls, currency: str) -> Amounts:
        nothing = Money.zero(currency)
        return cls(nothing, nothing, nothing)

    @classmethod
    def of(cls, amount: Money, rate: TaxRate, *, vat_inclusive: bool) -> Amounts:
        if vat_inclusive:
            vat = rate.vat_included_in(amount)
            return cls(amount - vat, vat, amount)
        vat = rate.vat_on(amount)
        return cls(amount, vat, amount + vat)

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(self.net + other.net, self.vat + other.vat, self.gross + other.gross)

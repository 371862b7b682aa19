"""An invoice's lines: what is sold, at what price and VAT rate, and their totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.tax import Amounts, TaxRate


def _check_quantity(_: object, __: object, value: Any) -> None:
    if type(value) is not int or value < 1:
        raise InvalidInput("a line's quantity is a positive int")


def _check_service(_: object, __: object, value: Any) -> None:
    if not isinstance(value, InvoiceService):
        raise InvalidInput(f"a line's service is an InvoiceService, not {value!r}")


def _check_description(_: object, __: object, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("a line needs a description")


def _check_price(_: object, __: object, value: Any) -> None:
    if not isinstance(value, Money):
        raise InvalidInput("a line's unit price is Money")


@frozen
class InvoiceLine:
    """One line; `unit_price` includes VAT when `vat_inclusive` (Danish consumer prices do)."""

    service: InvoiceService = field(validator=_check_service)
    description: str = field(validator=_check_description)
    quantity: int = field(validator=_check_quantity)
    unit_price: Money = field(validator=_check_price)
    vat_rate: TaxRate
    vat_inclusive: bool = True

    def __attrs_post_init__(self) -> None:
        if self.unit_price.is_negative:
            raise InvalidInput("a line's unit price cannot be negative")
        if not self.description.strip():
            raise InvalidInput("a line needs a description")

    @property
    def amounts(self) -> Amounts:
        """Rounded once per line; document totals are the sum of these."""
        return Amounts.of(
            self.unit_price * self.quantity, self.vat_rate, vat_inclusive=self.vat_inclusive
        )


def sum_lines(lines: Sequence[InvoiceLine], currency: str) -> Amounts:
    result = Amounts.zero(currency)
    for line in lines:
        result = result + line.amounts
    return result


def vat_by_rate(lines: Sequence[InvoiceLine], currency: str) -> list[tuple[TaxRate, Amounts]]:
    """Net, VAT and gross per VAT rate, highest rate first: a full Danish invoice states the
    VAT of each rate. The amounts add up to `sum_lines` (each line is rounded once)."""
    rates = sorted({line.vat_rate for line in lines}, key=lambda r: -r.basis_points)
    return [(r, sum_lines([x for x in lines if x.vat_rate == r], currency)) for r in rates]

"""VAT: 25 % inside or on top of prices, rounded half up; net + VAT always equals gross."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.errors import InvalidInput
from justdriving.domain.money import Money
from justdriving.domain.tax import Amounts, TaxRate

from .builders import dkk

amounts = st.integers(min_value=-(10**12), max_value=10**12).map(lambda a: Money(a, "DKK"))
rates = st.integers(0, 10_000).map(TaxRate)


class TestDanishVat:
    def test_vat_inside_125_kroner_at_25_percent_is_25_kroner(self):
        amounts = Amounts.of(dkk("125.00"), TaxRate(2500), vat_inclusive=True)

        assert amounts == Amounts(net=dkk("100.00"), vat=dkk("25.00"), gross=dkk("125.00"))

    def test_vat_on_top_of_100_kroner_at_25_percent_makes_125_kroner(self):
        amounts = Amounts.of(dkk("100.00"), TaxRate(2500), vat_inclusive=False)

        assert amounts == Amounts(net=dkk("100.00"), vat=dkk("25.00"), gross=dkk("125.00"))

    def test_a_zero_rate_adds_no_vat(self):
        amounts = Amounts.of(dkk("99.99"), TaxRate.zero(), vat_inclusive=True)

        assert amounts.vat == dkk("0.00")
        assert amounts.net == amounts.gross == dkk("99.99")


class TestRounding:
    @pytest.mark.parametrize(
        ("net_ore", "basis_points", "vat_ore"),
        [
            (2, 2_500, 1),  # 0.5 -> 1 (banker's rounding would give 0)
            (6, 2_500, 2),  # 1.5 -> 2
            (10, 2_500, 3),  # 2.5 -> 3 (banker's rounding would give 2)
            (-2, 2_500, -1),  # half away from zero for corrections
            (1, 2_500, 0),  # 0.25 -> 0
        ],
    )
    def test_vat_on_a_net_amount_rounds_half_up(self, net_ore, basis_points, vat_ore):
        assert TaxRate(basis_points).vat_on(Money(net_ore, "DKK")) == Money(vat_ore, "DKK")

    @pytest.mark.parametrize(
        ("gross_ore", "basis_points", "vat_ore"),
        [
            (3, 2_000, 1),  # 3 / 6 = 0.5 -> 1
            (15, 2_000, 3),  # 15 / 6 = 2.5 -> 3 (banker's rounding would give 2)
            (2, 2_500, 0),  # 2 / 5 = 0.4 -> 0
            (3, 2_500, 1),  # 3 / 5 = 0.6 -> 1
        ],
    )
    def test_vat_inside_a_gross_amount_rounds_half_up(self, gross_ore, basis_points, vat_ore):
        gross = Money(gross_ore, "DKK")

        assert TaxRate(basis_points).vat_included_in(gross) == Money(vat_ore, "DKK")

    @given(amounts, rates, st.booleans())
    def test_net_plus_vat_is_always_the_gross(self, amount, rate, vat_inclusive):
        result = Amounts.of(amount, rate, vat_inclusive=vat_inclusive)

        assert result.net + result.vat == result.gross
        assert (result.gross if vat_inclusive else result.net) == amount

    @given(amounts, rates, st.booleans())
    def test_vat_is_the_exact_vat_rounded_to_the_nearest_ore_with_ties_away_from_zero(
        self, amount, rate, vat_inclusive
    ):
        bp = rate.basis_points
        exact = (
            Fraction(amount.amount * bp, 10_000 + bp)
            if vat_inclusive
            else Fraction(amount.amount * bp, 10_000)
        )

        vat = Amounts.of(amount, rate, vat_inclusive=vat_inclusive).vat.amount

        assert abs(vat - exact) <= Fraction(1, 2)
        if abs(vat - exact) == Fraction(1, 2):
            assert abs(vat) > abs(exact)


class TestRateValidation:
    @pytest.mark.parametrize("basis_points", [0, 2500, 10_000])
    def test_rates_from_0_to_100_percent_are_accepted(self, basis_points):
        assert TaxRate(basis_points).basis_points == basis_points

    @pytest.mark.parametrize("basis_points", [-1, 10_001, 25.0, "2500", True, None])
    def test_a_rate_outside_0_to_100_percent_or_not_an_int_is_refused(self, basis_points):
        with pytest.raises(InvalidInput):
            TaxRate(basis_points)

    @pytest.mark.parametrize(("basis_points", "text"), [(2500, "25 %"), (1250, "12.50 %")])
    def test_a_rate_reads_as_a_percentage(self, basis_points, text):
        assert str(TaxRate(basis_points)) == text

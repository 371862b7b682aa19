"""Money: exact minor units in one currency; never a float, never a silent mix."""

from __future__ import annotations

import operator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.domain.errors import CurrencyMismatch, InvalidMoney
from justdriving.domain.money import MAX_AMOUNT, Money, total

amounts = st.integers(min_value=-(10**15), max_value=10**15)
ratios = st.lists(st.integers(0, 1_000), min_size=1, max_size=12).filter(lambda r: sum(r) > 0)
currencies = st.sampled_from(["DKK", "JPY", "BHD"])


class TestAllocatingAndSplitting:
    @given(amounts, ratios)
    def test_allocated_parts_always_sum_exactly_to_the_original(self, amount, ratios):
        money = Money(amount, "DKK")

        assert total(money.allocate(ratios), "DKK") == money

    @given(amounts, ratios)
    def test_each_allocated_part_is_within_one_minor_unit_of_its_exact_share(self, amount, ratios):
        parts = Money(amount, "DKK").allocate(ratios)

        for part, ratio in zip(parts, ratios, strict=True):
            assert abs(part.amount - Fraction(amount * ratio, sum(ratios))) < 1

    @given(amounts, st.integers(1, 50))
    def test_split_parts_sum_exactly_to_the_original_and_differ_by_at_most_one_unit(
        self, amount, parts
    ):
        money = Money(amount, "DKK")

        split = money.split(parts)

        assert len(split) == parts
        assert total(split, "DKK") == money
        assert max(p.amount for p in split) - min(p.amount for p in split) <= 1

    def test_a_hundred_kroner_split_three_ways_gives_the_extra_ore_to_the_first_part(self):
        assert Money(10_000, "DKK").split(3) == [
            Money(3_334, "DKK"),
            Money(3_333, "DKK"),
            Money(3_333, "DKK"),
        ]

    def test_a_part_with_a_zero_ratio_gets_nothing(self):
        assert Money(101, "DKK").allocate([1, 0, 1])[1] == Money(0, "DKK")

    @pytest.mark.parametrize("bad", [[], [0, 0], [1, -1], [1.5, 1]])
    def test_allocation_refuses_ratios_that_are_empty_negative_zero_or_not_ints(self, bad):
        with pytest.raises(InvalidMoney):
            Money(100, "DKK").allocate(bad)

    @pytest.mark.parametrize("bad", [0, -1, 2.0])
    def test_split_refuses_a_part_count_that_is_not_a_positive_int(self, bad):
        with pytest.raises(InvalidMoney):
            Money(100, "DKK").split(bad)


class TestParsing:
    @given(amounts, currencies)
    def test_parsing_the_decimal_form_gives_back_the_same_money(self, amount, currency):
        money = Money(amount, currency)

        assert Money.parse(str(money.to_decimal()), currency) == money
        assert Money.parse(money.to_decimal(), currency) == money

    @pytest.mark.parametrize(
        ("text", "currency", "minor_units"),
        [
            ("125.50", "DKK", 12_550),
            (" 125.5 ", "DKK", 12_550),
            ("-0.01", "DKK", -1),
            ("125", "JPY", 125),
            ("1.234", "BHD", 1_234),
            ("1.230", "DKK", 123),
        ],
    )
    def test_parse_reads_as_many_decimals_as_the_currency_has(self, text, currency, minor_units):
        assert Money.parse(text, currency) == Money(minor_units, currency)

    @pytest.mark.parametrize(
        ("text", "currency"), [("1.234", "DKK"), ("1.5", "JPY"), ("0.0001", "BHD")]
    )
    def test_parse_refuses_more_decimals_than_the_currency_allows(self, text, currency):
        with pytest.raises(InvalidMoney):
            Money.parse(text, currency)

    @pytest.mark.parametrize("text", ["NaN", "sNaN", "inf", "-Infinity", "abc", "", "1,50"])
    def test_parse_refuses_what_is_not_a_finite_number(self, text):
        with pytest.raises(InvalidMoney):
            Money.parse(text, "DKK")

    def test_decimal_form_has_the_currencys_decimals(self):
        assert Money(12_550, "DKK").to_decimal() == Decimal("125.50")
        assert Money(125, "JPY").to_decimal() == Decimal("125")
        assert Money(1_234, "BHD").to_decimal() == Decimal("1.234")


class TestFloatsAreRefused:
    @pytest.mark.parametrize("amount", [12.5, 12.0, True, Decimal("12"), "12"])
    def test_money_is_built_only_from_an_int_of_minor_units(self, amount):
        with pytest.raises(InvalidMoney):
            Money(amount, "DKK")

    def test_parse_refuses_a_float(self):
        with pytest.raises(InvalidMoney):
            Money.parse(125.5, "DKK")  # type: ignore[arg-type]

    @pytest.mark.parametrize("factor", [1.5, 2.0, Decimal("2")])
    def test_money_is_multiplied_by_whole_numbers_only(self, factor):
        with pytest.raises(InvalidMoney):
            Money(100, "DKK") * factor
        with pytest.raises(InvalidMoney):
            factor * Money(100, "DKK")

    def test_money_times_an_int_is_exact(self):
        assert Money(12_550, "DKK") * 3 == Money(37_650, "DKK")
        assert 3 * Money(12_550, "DKK") == Money(37_650, "DKK")


class TestCurrencies:
    @pytest.mark.parametrize(
        "combine",
        [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
    )
    def test_amounts_in_different_currencies_cannot_be_combined_or_compared(self, combine):
        with pytest.raises(CurrencyMismatch):
            combine(Money(100, "DKK"), Money(100, "EUR"))

    def test_amounts_in_different_currencies_are_never_equal(self):
        assert Money(100, "DKK") != Money(100, "EUR")

    def test_a_total_refuses_an_amount_in_another_currency(self):
        with pytest.raises(CurrencyMismatch):
            total([Money(100, "DKK"), Money(100, "SEK")], "DKK")

    @pytest.mark.parametrize("code", ["ZZZ", "dkk", "DK", "XXX", "XAU", ""])
    def test_an_unknown_currency_or_one_without_minor_units_is_refused(self, code):
        with pytest.raises(InvalidMoney):
            Money(100, code)
        with pytest.raises(InvalidMoney):
            Money.parse("1", code)


class TestPercent:
    @pytest.mark.parametrize(
        ("minor_units", "basis_points", "expected"),
        [
            (1, 5_000, 1),  # 0.5 -> 1
            (5, 5_000, 3),  # 2.5 -> 3 (banker's rounding would give 2)
            (-5, 5_000, -3),  # half away from zero
            (12_550, 2_500, 3_138),  # 3137.5 -> 3138
            (12_549, 2_500, 3_137),  # 3137.25 -> 3137
        ],
    )
    def test_percent_rounds_half_up(self, minor_units, basis_points, expected):
        assert Money(minor_units, "DKK").percent(basis_points) == Money(expected, "DKK")

    @given(amounts, st.integers(0, 10_000))
    def test_percent_is_the_exact_share_rounded_to_the_nearest_unit_with_ties_away_from_zero(
        self, amount, basis_points
    ):
        exact = Fraction(amount * basis_points, 10_000)

        result = Money(amount, "DKK").percent(basis_points).amount

        assert abs(result - exact) <= Fraction(1, 2)
        if abs(result - exact) == Fraction(1, 2):
            assert abs(result) > abs(exact)


every_amount = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)


class TestExactnessAndBounds:
    @given(every_amount, currencies)
    def test_every_amount_money_accepts_converts_to_its_exact_decimal_value(self, amount, code):
        money = Money(amount, code)
        exponent = {"DKK": 2, "JPY": 0, "BHD": 3}[code]

        assert money.to_decimal() == Fraction(amount, 10**exponent)

    @given(every_amount, currencies)
    def test_every_amount_money_accepts_prints_and_parses_back_to_itself(self, amount, code):
        money = Money(amount, code)

        assert Money.parse(str(money.to_decimal()), code) == money
        assert str(money).replace(",", "") == f"{money.to_decimal()} {code}"

    def test_the_largest_amount_keeps_every_digit(self):
        assert str(Money(MAX_AMOUNT, "BHD").to_decimal()) == "999999999999999.999"
        assert str(Money(-MAX_AMOUNT, "DKK")) == "-9,999,999,999,999,999.99 DKK"

    @pytest.mark.parametrize(
        "amount",
        [MAX_AMOUNT + 1, -MAX_AMOUNT - 1, 10**28 + 1, pytest.param(10**5000, id="10**5000")],
    )
    def test_an_amount_beyond_18_digits_of_minor_units_is_refused(self, amount):
        with pytest.raises(InvalidMoney, match="18 digits"):
            Money(amount, "BHD")

    def test_arithmetic_past_the_bound_is_refused_rather_than_stored(self):
        with pytest.raises(InvalidMoney):
            Money(MAX_AMOUNT, "DKK") + Money(1, "DKK")
        with pytest.raises(InvalidMoney):
            Money(MAX_AMOUNT, "DKK") * 2

    @pytest.mark.parametrize(
        "text",
        [
            "1e30",
            "1E2",
            "1_000",
            "1,000.00",
            "\u0661\u0662\u0663",  # Arabic-Indic digits
            "\uff11\uff12",  # full-width digits
            "12.",
            ".5",
            "--1",
            "1.5.0",
            "0x10",
            "12 50",
        ],
    )
    def test_parse_accepts_plain_decimal_notation_only(self, text):
        with pytest.raises(InvalidMoney):
            Money.parse(text, "DKK")

    @pytest.mark.parametrize(
        "text", ["10000000000000000.00", "9999999999999999.991", "-10000000000000000"]
    )
    def test_parse_refuses_an_amount_beyond_the_bound_or_with_hidden_decimals(self, text):
        with pytest.raises(InvalidMoney):
            Money.parse(text, "DKK")

    def test_parse_decides_surplus_decimals_exactly_beyond_28_digits(self):
        # 1.000…0001 with 35 digits: Decimal's 28-digit context would round the 1 away.
        with pytest.raises(InvalidMoney, match="more decimals"):
            Money.parse("1." + "0" * 33 + "1", "DKK")
        assert Money.parse("1." + "0" * 5000, "DKK") == Money(100, "DKK")
        assert Money.parse(Decimal("-0.000"), "JPY") == Money(0, "JPY")

    @pytest.mark.parametrize(("text", "minor"), [("+12.5", 1250), (" 7 ", 700), ("-0.01", -1)])
    def test_parse_takes_a_sign_and_surrounding_spaces(self, text, minor):
        assert Money.parse(text, "DKK") == Money(minor, "DKK")

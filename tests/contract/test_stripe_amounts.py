"""Money to Stripe's smallest unit and back: zero-, two- and three-decimal currencies, ISK, MGA."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from justdriving.adapters.payments.stripe.amounts import from_stripe, to_stripe
from justdriving.domain.errors import InvalidMoney
from justdriving.domain.money import Money


@pytest.mark.parametrize(
    ("money", "wire"),
    [
        (Money(12550, "DKK"), (12550, "dkk")),  # 125.50 kr. in øre
        (Money(5000, "JPY"), (5000, "jpy")),  # zero-decimal: ¥5000, not multiplied
        (Money(10000, "KRW"), (10000, "krw")),
        (Money(2500, "UGX"), (2500, "ugx")),  # zero-decimal for charges
        (Money(5120, "KWD"), (5120, "kwd")),  # three-decimal, last digit 0
        (Money(1230, "BHD"), (1230, "bhd")),
        (Money(500, "ISK"), (50000, "isk")),  # two decimals on the wire, whole krónur only
        (Money(1050, "HUF"), (1050, "huf")),  # two-decimal for charges (payouts differ)
        (Money(9999, "TWD"), (9999, "twd")),
        (Money(300, "MGA"), (3, "mga")),  # Stripe: zero-decimal; ISO 4217: two
    ],
)
def test_amounts_are_sent_in_stripes_smallest_unit(money: Money, wire: tuple[int, str]) -> None:
    assert to_stripe(money) == wire
    assert from_stripe(*wire) == money


@pytest.mark.parametrize(
    "money",
    [
        Money(5124, "KWD"),  # Stripe asks for a multiple of ten
        Money(1, "JOD"),
        Money(150, "MGA"),  # half an ariary
        Money(5000, "LYD"),  # three decimals in ISO, not on Stripe's three-decimal list
        Money(10000, "CLF"),  # four decimals in ISO
    ],
)
def test_amounts_stripe_cannot_take_are_refused_rather_than_rounded(money: Money) -> None:
    with pytest.raises(InvalidMoney):
        to_stripe(money)


@pytest.mark.parametrize(("amount", "currency"), [(50050, "isk"), (5, "xyz"), (5, "lyd")])
def test_amounts_from_stripe_we_cannot_hold_are_refused(amount: int, currency: str) -> None:
    with pytest.raises(InvalidMoney):
        from_stripe(amount, currency)


def test_an_amount_from_stripe_must_be_an_integer() -> None:
    with pytest.raises(InvalidMoney):
        from_stripe(True, "dkk")  # type: ignore[arg-type]


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["DKK", "EUR", "JPY", "KRW", "ISK", "KWD", "BHD", "HUF", "UGX"]),
)
def test_what_stripe_takes_comes_back_unchanged(amount: int, currency: str) -> None:
    money = Money(amount * 10 if currency in ("KWD", "BHD") else amount, currency)
    assert from_stripe(*to_stripe(money)) == money

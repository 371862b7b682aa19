"""Money in Stripe's wire format: an integer of Stripe's smallest unit and a lower-case code.

Stripe's "Supported currencies" page (docs.stripe.com/currencies) gives the rules used here:
- every currency is two-decimal unless listed otherwise;
- zero-decimal: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF (ISO 4217 agrees,
  except MGA, which ISO gives two decimals: an ariary amount must be whole);
- three-decimal: BHD JOD KWD OMR TND, and the last digit must be 0 ("round to the nearest ten");
- special cases: ISK stays two-decimal in the API but only whole krónur are accepted (support
  article "Deprecation of fractional ISK charges and refunds": "amounts in ISK are stated in
  multiples of 100"); ISO gives ISK no decimals, so 1 kr. is 100 on the wire. HUF and TWD are
  zero-decimal for payouts only and are charged with two decimals like ISO, so they pass
  through. UGX is zero-decimal for charges, as in ISO.
Any other currency whose ISO decimals differ from Stripe's (LYD, IQD, CLF, UYW …) is refused
rather than guessed.
"""

from __future__ import annotations

from justdriving.domain.errors import InvalidMoney
from justdriving.domain.money import Money, currency_exponent

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Currencies whose ISO 4217 decimals differ from Stripe's and whose conversion Stripe documents.
_RESCALED = frozenset({"ISK", "MGA"})


def stripe_decimals(currency: str) -> int:
    """How many decimals Stripe's smallest unit of `currency` has."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def to_stripe(money: Money) -> tuple[int, str]:
    """`(amount, currency)` as Stripe takes them; InvalidMoney when Stripe cannot take it."""
    shift = stripe_decimals(money.currency) - currency_exponent(money.currency)
    if shift and money.currency not in _RESCALED:
        raise InvalidMoney(f"Stripe's minor unit of {money.currency} differs from ISO 4217's")
    amount = money.amount * 10**shift if shift >= 0 else _whole(money, 10**-shift)
    if money.currency in THREE_DECIMAL and amount % 10:
        raise InvalidMoney(
            f"Stripe takes {money.currency} amounts in multiples of 10, not {amount}"
        )
    return amount, money.currency.lower()


def from_stripe(amount: int, currency: str) -> Money:
    """Money from Stripe's `amount` and `currency`; InvalidMoney for a value we cannot hold."""
    code = currency.upper()
    if type(amount) is not int:
        raise InvalidMoney(f"a Stripe amount is an integer, not {amount!r}")
    money = Money(0, code)  # validates the code before it is used
    shift = stripe_decimals(code) - currency_exponent(code)
    if shift and code not in _RESCALED:
        raise InvalidMoney(f"Stripe's minor unit of {code} differs from ISO 4217's")
    if shift > 0 and amount % 10**shift:
        raise InvalidMoney(f"{amount} {code} on Stripe is not a whole {code} minor unit")
    value = amount // 10**shift if shift > 0 else amount * 10**-shift
    return Money(value, money.currency)


def _whole(money: Money, factor: int) -> int:
    if money.amount % factor:
        raise InvalidMoney(f"Stripe takes {money.currency} in whole units only, not {money}")
    return money.amount // factor

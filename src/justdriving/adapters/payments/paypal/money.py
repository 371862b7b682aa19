"""Money in PayPal's wire format: `{"currency_code": "DKK", "value": "125.50"}`.

PayPal's currency-codes reference (developer.paypal.com/reference/currency-codes) lists the
currencies below; HUF, JPY and TWD "do not support decimals. If you pass a decimal amount, an
error occurs." ISO 4217 gives HUF and TWD two decimals, so a forint amount is sent in whole
forint and refused when it has fillér; every other currency is sent with its ISO decimals.
"""

from __future__ import annotations

from typing import Any

from justdriving.domain.errors import InvalidMoney, ProviderRejected
from justdriving.domain.money import Money, currency_exponent

PAYPAL_CURRENCIES = frozenset(
    {
        "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN",
        "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "RUB", "SGD", "SEK", "CHF", "THB", "USD",
    }
)  # fmt: skip
WHOLE_UNIT_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})


def paypal_value(money: Money, provider: str = "paypal") -> str:
    """The decimal string PayPal takes for `money`; ProviderRejected when PayPal cannot take it."""
    if money.currency not in PAYPAL_CURRENCIES:
        raise ProviderRejected(
            provider,
            f"PayPal does not take {money.currency}",
            provider_code="CURRENCY_NOT_SUPPORTED",
        )
    value = money.to_decimal()
    if money.currency in WHOLE_UNIT_CURRENCIES:
        if value != value.to_integral_value():
            raise ProviderRejected(
                provider,
                f"PayPal takes {money.currency} in whole units only, not {value}",
                provider_code="DECIMALS_NOT_SUPPORTED",
            )
        return str(int(value))
    return f"{value:.{currency_exponent(money.currency)}f}"


def paypal_amount(money: Money, provider: str = "paypal") -> dict[str, str]:
    return {"currency_code": money.currency, "value": paypal_value(money, provider)}


def money_from_paypal(amount: Any) -> Money:
    """Money from `{"currency_code", "value"}` (v2) or `{"currency", "total"}` (v1 events).

    Raises InvalidMoney when the shape or the value is not an amount.
    """
    if not isinstance(amount, dict):
        raise InvalidMoney("a PayPal amount is an object")
    currency = amount.get("currency_code", amount.get("currency"))
    value = amount.get("value", amount.get("total"))
    if not isinstance(currency, str) or not isinstance(value, str):
        raise InvalidMoney("a PayPal amount needs a currency code and a decimal string value")
    return Money.parse(value, currency)

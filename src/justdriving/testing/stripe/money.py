"""Stripe's money rules in the simulator: currencies, amounts (three-decimal amounts end in 0,
ISK in whole krónur), capture methods, line totals, application fees, and which payment method
types an intent or session may offer in its currency."""

from __future__ import annotations

from typing import Any

from justdriving.testing.stripe.objects import StripeObject, integer, invalid

_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def application_fee(params: StripeObject, amount: int, account_id: str | None) -> int | None:
    """Stripe takes an application fee on a direct charge (made with Stripe-Account) only,
    and never above the amount."""
    if params.get("application_fee_amount") is None:
        return None
    if account_id is None:
        raise invalid(
            "Can only apply an application_fee_amount when the PaymentIntent is attempting "
            "a direct payment (using an OAuth key or Stripe-Account header) or destination "
            "payment (using `transfer_data[destination]`).",
            param="application_fee_amount",
        )
    fee = integer(params, "application_fee_amount")
    if fee > amount:
        raise invalid(
            "The application fee amount cannot be greater than the amount.",
            param="application_fee_amount",
        )
    return fee


def currency(params: StripeObject) -> str:
    currency = params.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}", param="currency")
    return currency.lower()


def capture_method(params: StripeObject) -> str:
    capture = params.get("capture_method") or "automatic"
    if capture not in ("automatic", "automatic_async", "manual"):
        raise invalid(f"Invalid capture_method: {capture}", param="capture_method")
    return str(capture)


def amount(params: StripeObject, name: str) -> int:
    value, code = integer(params, name), currency(params)
    if code in _THREE_DECIMAL and value % 10:
        raise invalid(
            f"Invalid amount: {code.upper()} amounts must end in 0.",
            param=name,
            code="invalid_charge_amount",
        )
    if code == "isk" and value % 100:
        raise invalid(
            "Invalid amount. Currency ISK has become effectively zero-decimal and charged "
            "amounts must be evenly divisible by 100.",
            param=name,
            code="invalid_charge_amount_no_decimal_compatible",
        )
    return value


def line_total(lines: list[Any]) -> tuple[int, str]:
    total, currencies = 0, set()
    for line in lines:
        price = line.get("price_data") if isinstance(line, dict) else None
        if not isinstance(price, dict):
            raise invalid("Each line item needs price_data.", param="line_items")
        quantity = integer(line, "quantity", default=1)
        total += amount(price, "unit_amount") * quantity
        currencies.add(currency(price))
    if len(currencies) != 1:
        raise invalid("All line items must have the same currency.", param="line_items")
    return total, currencies.pop()


# The payment method types the simulator knows, and the currencies Stripe presents each in
# (docs.stripe.com/payments/mobilepay: DKK, EUR, NOK, SEK); None: any currency.
METHOD_CURRENCIES: dict[str, frozenset[str] | None] = {
    "card": None,
    "mobilepay": frozenset({"dkk", "eur", "nok", "sek"}),
}


def method_types(params: StripeObject, currency: str) -> list[str] | None:
    """`allowed_payment_method_types[]` as API version 2026-10-28.endive reads it (added in
    2026-07-29.dahlia): known types, filtered silently to those that work in the currency, never
    with automatic_payment_methods. `payment_method_types` is no longer writable since
    2026-09-30.endive (Stripe's changelog) and is refused with its error code."""
    if params.get("payment_method_types") is not None:
        raise invalid(
            "payment_method_types is no longer supported; use allowed_payment_method_types.",
            param="payment_method_types",
            code="payment_method_types_no_longer_supported",
        )
    types = params.get("allowed_payment_method_types")
    if types is None:
        return None
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise invalid("Invalid array", param="allowed_payment_method_types")
    if params.get("automatic_payment_methods") is not None:
        raise invalid(
            "You may only specify one of these parameters: allowed_payment_method_types, "
            "automatic_payment_methods.",
            param="allowed_payment_method_types",
        )
    unknown = [kind for kind in types if kind not in METHOD_CURRENCIES]
    if unknown:
        raise invalid(
            f"The payment method type provided: {unknown[0]} is invalid.",
            param="allowed_payment_method_types",
        )
    compatible = [
        kind
        for kind in types
        if METHOD_CURRENCIES[kind] is None or currency in (METHOD_CURRENCIES[kind] or ())
    ]
    if not compatible:
        raise invalid(
            f"None of the allowed payment method types can be used with {currency}.",
            param="allowed_payment_method_types",
        )
    return compatible


def automatic_methods(params: StripeObject) -> StripeObject | None:
    setting = params.get("automatic_payment_methods")
    if not isinstance(setting, dict):
        return None
    return {"enabled": setting.get("enabled") == "true", "allow_redirects": "always"}

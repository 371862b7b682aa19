"""PayPal's refusals in the simulator: an error answer with PayPal's name and issue, and the
amount check every money-moving request goes through."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from justdriving.testing.paypal import errors as paypal_errors
from justdriving.testing.paypal import resources as res

_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # the spec's amount pattern


class PayPalProblem(Exception):
    """An error answer: HTTP status, PayPal's error name and the detail issue."""

    def __init__(self, status: int, name: str, issue: str | None, message: str) -> None:
        super().__init__(f"{status} {issue or name}: {message}")
        self.status, self.name, self.issue, self.message = status, name, issue, message

    def body(self, method: str = "", path: str = "") -> dict[str, Any]:
        """PayPal's own name and message for the status, and the description the operation
        `method path` documents for the issue (fixtures/errors.json); `message` where
        PayPal leaves it free."""
        called = paypal_errors.operation(method, path)
        return paypal_errors.body(self.status, self.issue, self.message, called)


def unprocessable(issue: str, message: str) -> PayPalProblem:
    return PayPalProblem(422, "UNPROCESSABLE_ENTITY", issue, message)


def invalid(issue: str, message: str) -> PayPalProblem:
    return PayPalProblem(400, "INVALID_REQUEST", issue, message)


def not_found(kind: str, ident: str) -> PayPalProblem:
    return PayPalProblem(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", f"no {kind} {ident}")


def parse_amount(value: Any, currency: str | None = None) -> tuple[str, Decimal]:
    """(currency, value) from a request's amount object, checked as PayPal checks it."""
    if not isinstance(value, dict):
        raise invalid("MISSING_REQUIRED_PARAMETER", "amount is required")
    code, text = value.get("currency_code"), value.get("value")
    if not isinstance(code, str) or not isinstance(text, str) or not _VALUE.match(text):
        raise invalid("INVALID_PARAMETER_SYNTAX", "amount needs currency_code and a decimal value")
    if code not in res.CURRENCIES:
        raise unprocessable("CURRENCY_NOT_SUPPORTED", f"{code} is not supported")
    if currency is not None and code != currency:
        raise unprocessable("CURRENCY_MISMATCH", f"{code} is not {currency}")
    number = Decimal(text)
    if number <= 0:
        raise unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "amount must be positive")
    decimals = -number.as_tuple().exponent if "." in text else 0  # type: ignore[operator]
    if code in res.WHOLE_UNIT_CURRENCIES and decimals:
        raise unprocessable("DECIMALS_NOT_SUPPORTED", f"{code} does not support decimals")
    if decimals > 2:
        raise unprocessable("DECIMAL_PRECISION", f"{code} takes at most two decimals")
    return code, number

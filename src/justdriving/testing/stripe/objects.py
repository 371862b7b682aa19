"""Stripe API objects for the simulator, shaped from Stripe's own example objects.

Each object starts as a copy of the example in fixtures/ (Stripe's fixtures3.json, MIT,
see LICENSE-NOTE.txt) and gets its ids, amounts and state filled in; errors use Stripe's
`{"error": {type, code, message, …}}` envelope.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from functools import cache
from importlib import resources
from typing import Any

StripeObject = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


class StripeApiError(Exception):
    """An API error as Stripe answers it: an HTTP status and the error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        retry_after: float | None = None,
        payment_intent: StripeObject | None = None,
    ) -> None:
        super().__init__(message)
        self.payment_intent = payment_intent
        self.status, self.message, self.type = status, message, type
        self.code, self.param, self.decline_code = code, param, decline_code
        self.retry_after = retry_after

    def envelope(self) -> StripeObject:
        error: StripeObject = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.payment_intent is not None:  # a failed confirmation: the PaymentIntent made
            error["payment_intent"] = {
                k: copy.deepcopy(v) for k, v in self.payment_intent.items() if not k.startswith("_")
            }
        return {"error": error}


class SimulatorError(AssertionError):
    """A test asked the simulator for something Stripe's payer side could not do."""


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


@cache
def _example(name: str) -> str:
    folder = resources.files("justdriving.testing.stripe").joinpath("fixtures")
    return folder.joinpath(f"{name}.json").read_text(encoding="utf-8")


def example(kind: str, /, **fields: Any) -> StripeObject:
    """A fresh copy of Stripe's example `kind` (payment_intent, charge, …) with `fields` set."""
    obj: StripeObject = json.loads(_example(kind))
    obj.update(copy.deepcopy(fields))
    return obj


def not_found(kind: str, ident: str, param: str) -> StripeApiError:
    return StripeApiError(404, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


def unexpected_state(obj: StripeObject, action: str, allowed: str) -> StripeApiError:
    """Stripe's answer to an action the object's status does not allow."""
    kind, code = {
        "payment_intent": ("PaymentIntent", "payment_intent_unexpected_state"),
        "checkout.session": ("Checkout Session", "checkout_session_unexpected_state"),
    }.get(obj["object"], (obj["object"], "resource_unexpected_state"))
    return StripeApiError(
        400,
        f"This {kind} could not be {action} because it has a status of {obj['status']}. "
        f"Only a {kind} with one of the following statuses may be {action}: {allowed}.",
        code=code,
    )


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    return StripeApiError(400, message, param=param, code=code or "parameter_invalid")


def integer(params: StripeObject, name: str, *, default: int | None = None) -> int:
    """A positive integer parameter, as Stripe validates it."""
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return default
    if not isinstance(raw, str) or not raw.isdigit():
        raise invalid(f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer")
    value = int(raw)
    if value < 1:
        raise invalid("This value must be greater than or equal to 1.", param=name)
    return value


def metadata(params: StripeObject, name: str = "metadata") -> dict[str, str]:
    raw = params.get(name) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid("Invalid metadata: must be a hash of strings.", param=name)
    return {key: value for key, value in raw.items() if value != ""}


def injected_failure(status: int, retry_after: float | None, code: str | None) -> StripeApiError:
    """The error Stripe answers with `status`, for a failure a test injects."""
    if status == 402:
        return StripeApiError(
            402, "Your card was declined.", type="card_error", code=code or "card_declined"
        )
    if status == 429:
        message = "Too many requests hit the API too quickly."
        return StripeApiError(429, message, code=code or "rate_limit", retry_after=retry_after)
    if status >= 500:
        message = "An unknown error occurred while processing your request."
        return StripeApiError(status, message, type="api_error", code=code, retry_after=retry_after)
    return StripeApiError(status, f"Simulated error {status}.", code=code, retry_after=retry_after)


def no_access(secret_key: str, account: str | None) -> StripeApiError:
    """Stripe's answer to a Stripe-Account header naming an account not connected to us."""
    return StripeApiError(
        403,
        f"The provided key 'sk_test_****{secret_key[-4:]}' does not have access to account "
        f"'{(account or '')[:40]}' (or that account does not exist). Application access may "
        "have been revoked.",
        type="permission_error",
        code="account_invalid",
    )


def bad_key(authorization: str | None) -> StripeApiError:
    """Stripe's 401 for a secret key it does not know (it shows only the key's last digits)."""
    shown = (authorization or "")[-4:]
    return StripeApiError(401, f"Invalid API Key provided: sk_test_****{shown}")

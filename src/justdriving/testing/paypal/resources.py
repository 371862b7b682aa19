"""The PayPal simulator's records: orders, authorizations, captures, refunds and disputes, and
the small wire helpers (ids, amounts, timestamps, links) their views use (views.py).

The views follow the schemas of paypal/paypal-rest-api-specifications (checkout_orders_v2
`order`, payments_payment_v2 `authorization-2`, `capture-2`, `refund`, customer_disputes_v1
`dispute`, notifications_webhooks_v1 `event`). The spec snapshot has no example responses for
these, so the shapes are built from the schemas; see fixtures/LICENSE-NOTE.txt.
"""

from __future__ import annotations

import json
import secrets
import string
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from attrs import define, field

# PayPal account ids are 13 characters of [2-9A-HJ-NP-Z] (the Orders spec's `account_id`).
MERCHANT_ID = "JDSCH2KZ4MRT7"
PAYER_ID = "JDPAYR3W8XQN5"
WHOLE_UNIT_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
CURRENCIES = frozenset(
    {
        "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN",
        "TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "RUB", "SGD", "SEK", "CHF", "THB", "USD",
    }
)  # fmt: skip
_ID_ALPHABET = string.ascii_uppercase + string.digits


def fixture(name: str) -> Any:
    """One of PayPal's spec examples in fixtures/ (see LICENSE-NOTE.txt there)."""
    folder = resources.files("justdriving.testing.paypal").joinpath("fixtures")
    return json.loads(folder.joinpath(name).read_text(encoding="utf-8"))


def new_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def event_id() -> str:
    return f"WH-{new_id()}-{new_id()}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def amount(currency: str, value: Decimal) -> dict[str, str]:
    return {"currency_code": currency, "value": format_value(currency, value)}


def format_value(currency: str, value: Decimal) -> str:
    return f"{value:.0f}" if currency in WHOLE_UNIT_CURRENCIES else f"{value:.2f}"


def link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


@define
class Order:
    id: str
    intent: str
    status: str
    currency: str
    value: Decimal
    custom_id: str | None
    invoice_id: str | None
    description: str | None
    reference_id: str
    payment_source: dict[str, Any] | None
    created: datetime
    updated: datetime
    authorizations: list[str] = field(factory=list)
    captures: list[str] = field(factory=list)
    payer_email: str | None = None


@define
class Authorization:
    id: str
    order_id: str
    status: str
    currency: str
    value: Decimal
    custom_id: str | None
    invoice_id: str | None
    created: datetime
    updated: datetime
    captures: list[str] = field(factory=list)


@define
class Capture:
    id: str
    order_id: str
    authorization_id: str | None
    status: str
    currency: str
    value: Decimal
    custom_id: str | None
    invoice_id: str | None
    created: datetime
    updated: datetime
    reason: str | None = None
    refunds: list[str] = field(factory=list)


@define
class Refund:
    id: str
    capture_id: str
    order_id: str
    status: str
    currency: str
    value: Decimal
    invoice_id: str | None
    custom_id: str | None
    note_to_payer: str | None
    created: datetime
    updated: datetime
    reason: str | None = None


@define
class Dispute:
    id: str
    capture_id: str
    status: str
    currency: str
    value: Decimal
    custom_id: str | None
    created: datetime
    updated: datetime
    outcome: str | None = None

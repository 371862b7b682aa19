"""PayPal's orders as JSON: the order we create for a payment, and reading what PayPal answers
(resource ids, the payer's link, an order's captures and authorizations, their amounts and a
refund's status)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from justdriving.adapters.payments.paypal.money import money_from_paypal, paypal_amount
from justdriving.domain.errors import InvalidMoney, ProviderUnavailable
from justdriving.domain.money import Money
from justdriving.domain.payments import CaptureMode
from justdriving.domain.refunds import RefundStatus
from justdriving.ports.payments import PaymentRequest

REFUND_STATUS = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PENDING,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.CANCELED,
}
REFUNDABLE = frozenset({"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED", "PENDING"})
PAID = REFUNDABLE


def order_body(request: PaymentRequest, provider: str) -> dict[str, Any]:
    """The Orders v2 create body: intent CAPTURE, or AUTHORIZE for a manual capture; our payment
    id travels as the purchase unit's custom_id."""
    unit: dict[str, Any] = {
        "reference_id": "default",
        "custom_id": request.payment_id,
        "description": request.description[:127],
        "amount": paypal_amount(request.amount, provider),
    }
    if request.metadata.get("invoice_id"):
        unit["invoice_id"] = request.metadata["invoice_id"]
    manual = request.capture_mode is CaptureMode.MANUAL
    body: dict[str, Any] = {
        "intent": "AUTHORIZE" if manual else "CAPTURE",
        "purchase_units": [unit],
    }
    paypal: dict[str, Any] = {}
    if request.return_url:
        paypal["experience_context"] = {
            "return_url": request.return_url,
            "cancel_url": request.return_url,
            "user_action": "PAY_NOW",
            "shipping_preference": "NO_SHIPPING",
        }
    if request.customer_email is not None:
        paypal["email_address"] = str(request.customer_email)
    if paypal:
        body["payment_source"] = {"paypal": paypal}
    return body


def resource_id(resource: Mapping[str, Any], provider: str) -> str:
    value = resource.get("id")
    if not isinstance(value, str) or not value:
        raise ProviderUnavailable(provider, "PayPal answered without a resource id")
    return value


def link(resource: Mapping[str, Any], rel: str) -> str | None:
    for each in resource.get("links") or ():
        if isinstance(each, dict) and each.get("rel") == rel and isinstance(each.get("href"), str):
            return str(each["href"])
    return None


def first_unit(order: Mapping[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units")
    first = units[0] if isinstance(units, list) and units else None
    return first if isinstance(first, dict) else {}


def payments(order: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The order's captures or authorizations across its purchase units."""
    return list(_each(order, kind))


def _each(order: Mapping[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    for unit in order.get("purchase_units") or ():
        made = unit.get("payments") if isinstance(unit, dict) else None
        found = made.get(kind) if isinstance(made, dict) else None
        for item in found if isinstance(found, list) else ():
            if isinstance(item, dict):
                yield item


def last_capture(captured: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """The capture PayPal made, from its answer to a capture call."""
    items = payments(captured, "captures")
    if not items:
        raise ProviderUnavailable(provider, "PayPal captured without a capture in its answer")
    return items[-1]


def amount_of(resource: Mapping[str, Any], provider: str) -> Money:
    try:
        return money_from_paypal(resource.get("amount"))
    except InvalidMoney as error:
        raise ProviderUnavailable(provider, f"PayPal sent an unreadable amount: {error}") from error

"""The PayPal simulator's records as PayPal shows them: the JSON views of orders,
authorizations, captures, refunds and disputes, and webhook events, following the schemas named
in resources.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from justdriving.testing.paypal.resources import (
    MERCHANT_ID,
    PAYER_ID,
    Authorization,
    Capture,
    Dispute,
    Order,
    Refund,
    amount,
    event_id,
    link,
    rfc3339,
)


def _optional(view: dict[str, Any], **values: Any) -> dict[str, Any]:
    view.update({name: value for name, value in values.items() if value is not None})
    return view


def order_view(
    base: str, order: Order, authorizations: list[dict[str, Any]], captures: list[dict[str, Any]]
) -> dict[str, Any]:
    unit = _optional(
        {
            "reference_id": order.reference_id,
            "amount": amount(order.currency, order.value),
            "payee": {"merchant_id": MERCHANT_ID, "email_address": "merchant@example.com"},
        },
        custom_id=order.custom_id,
        invoice_id=order.invoice_id,
        description=order.description,
    )
    payments = {"authorizations": authorizations, "captures": captures}
    if authorizations or captures:
        unit["payments"] = {kind: items for kind, items in payments.items() if items}
    self_href = f"{base}/v2/checkout/orders/{order.id}"
    links = [link(self_href, "self")]
    if order.status == "CREATED":
        links.append(link(f"{base}/checkoutnow?token={order.id}", "approve"))
    if order.status == "PAYER_ACTION_REQUIRED":
        links.append(link(f"{base}/checkoutnow?token={order.id}", "payer-action"))
    if order.status in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
        links.append(link(self_href, "update", "PATCH"))
    if order.status == "APPROVED":
        action = "capture" if order.intent == "CAPTURE" else "authorize"
        links.append(link(f"{self_href}/{action}", action, "POST"))
    view = _optional(
        {
            "id": order.id,
            "intent": order.intent,
            "status": order.status,
            "purchase_units": [unit],
            "create_time": rfc3339(order.created),
            "update_time": rfc3339(order.updated),
            "links": links,
        },
        payment_source=order.payment_source,
    )
    if order.payer_email is not None:
        view["payer"] = {
            "name": {"given_name": "Sim", "surname": "Payer"},
            "email_address": order.payer_email,
            "payer_id": PAYER_ID,
            "address": {"country_code": "DK"},
        }
    return view


def authorization_view(base: str, item: Authorization, expires: datetime) -> dict[str, Any]:
    href = f"{base}/v2/payments/authorizations/{item.id}"
    return _optional(
        {
            "id": item.id,
            "status": item.status,
            "amount": amount(item.currency, item.value),
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": _CATEGORIES},
            "expiration_time": rfc3339(expires),
            "supplementary_data": {"related_ids": {"order_id": item.order_id}},
            "create_time": rfc3339(item.created),
            "update_time": rfc3339(item.updated),
            "links": [
                link(href, "self"),
                link(f"{href}/capture", "capture", "POST"),
                link(f"{href}/void", "void", "POST"),
                link(f"{href}/reauthorize", "reauthorize", "POST"),
                link(f"{base}/v2/checkout/orders/{item.order_id}", "up"),
            ],
        },
        custom_id=item.custom_id,
        invoice_id=item.invoice_id,
    )


_CATEGORIES = ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]


def capture_view(base: str, item: Capture) -> dict[str, Any]:
    href = f"{base}/v2/payments/captures/{item.id}"
    gross = amount(item.currency, item.value)
    related = {"order_id": item.order_id}
    up = f"{base}/v2/checkout/orders/{item.order_id}"
    if item.authorization_id is not None:
        related["authorization_id"] = item.authorization_id
        up = f"{base}/v2/payments/authorizations/{item.authorization_id}"
    view = _optional(
        {
            "id": item.id,
            "status": item.status,
            "amount": gross,
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": _CATEGORIES},
            "seller_receivable_breakdown": {
                "gross_amount": gross,
                "paypal_fee": amount(item.currency, Decimal(0)),
                "net_amount": gross,
            },
            "supplementary_data": {"related_ids": related},
            "create_time": rfc3339(item.created),
            "update_time": rfc3339(item.updated),
            "links": [
                link(href, "self"),
                link(f"{href}/refund", "refund", "POST"),
                link(up, "up"),
            ],
        },
        custom_id=item.custom_id,
        invoice_id=item.invoice_id,
    )
    if item.reason is not None:
        view["status_details"] = {"reason": item.reason}
    return view


def refund_view(base: str, item: Refund, refunded_total: Decimal) -> dict[str, Any]:
    gross = amount(item.currency, item.value)
    view = _optional(
        {
            "id": item.id,
            "amount": gross,
            "status": item.status,
            "seller_payable_breakdown": {
                "gross_amount": gross,
                "paypal_fee": amount(item.currency, Decimal(0)),
                "net_amount": gross,
                "total_refunded_amount": amount(item.currency, refunded_total),
            },
            "create_time": rfc3339(item.created),
            "update_time": rfc3339(item.updated),
            "links": [
                link(f"{base}/v2/payments/refunds/{item.id}", "self"),
                link(f"{base}/v2/payments/captures/{item.capture_id}", "up"),
            ],
        },
        invoice_id=item.invoice_id,
        custom_id=item.custom_id,
        note_to_payer=item.note_to_payer,
    )
    if item.reason is not None:
        view["status_details"] = {"reason": item.reason}
    return view


def dispute_view(base: str, item: Dispute) -> dict[str, Any]:
    disputed = amount(item.currency, item.value)
    view: dict[str, Any] = {
        "dispute_id": item.id,
        "create_time": rfc3339(item.created),
        "update_time": rfc3339(item.updated),
        "disputed_transactions": [
            _optional(
                {
                    "seller_transaction_id": item.capture_id,
                    "create_time": rfc3339(item.created),
                    "transaction_status": "COMPLETED",
                    "gross_amount": disputed,
                    "seller": {"merchant_id": MERCHANT_ID},
                },
                custom=item.custom_id,
            )
        ],
        "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        "status": item.status,
        "dispute_amount": disputed,
        "dispute_life_cycle_stage": "INQUIRY",
        "dispute_channel": "INTERNAL",
        "links": [link(f"{base}/v1/customer/disputes/{item.id}", "self")],
    }
    if item.outcome is not None:
        view["dispute_outcome"] = {"outcome_code": item.outcome, "amount_refunded": disputed}
    return view


def event(
    base: str,
    event_type: str,
    resource_type: str,
    resource: dict[str, Any],
    at: datetime,
    summary: str = "",
) -> dict[str, Any]:
    """The webhook event envelope (notifications_webhooks_v1 `event`)."""
    ident = event_id()
    href = f"{base}/v1/notifications/webhooks-events/{ident}"
    return {
        "id": ident,
        "event_version": "1.0",
        "create_time": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary or event_type.replace(".", " ").lower(),
        "resource": resource,
        "links": [link(href, "self"), link(f"{href}/resend", "resend", "POST")],
    }

"""The PayPal simulator's books: orders, authorizations, captures, refunds and disputes, with
the rules PayPal applies to them (approval before capture, refunds never above the capture,
whole-unit currencies) and PayPal's error issues when a rule says no. Not thread-safe: the
simulator calls it under its lock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from justdriving.testing.paypal import resources as res
from justdriving.testing.paypal import views
from justdriving.testing.paypal.problems import (
    PayPalProblem,
    invalid,
    not_found,
    parse_amount,
    unprocessable,
)
from justdriving.testing.paypal.resources import Authorization, Capture, Dispute, Order, Refund

AUTHORIZATION_DAYS = 29
T = TypeVar("T")
OVER_CAPTURE = Decimal("1.15")  # PayPal captures up to 115 % of an authorization


class Ledger:
    """Every resource by id, plus the operations PayPal's API and its payers perform."""

    def __init__(self, clock: Callable[[], datetime], refund_status: str) -> None:
        self.clock = clock
        self.refund_status = refund_status
        self.orders: dict[str, Order] = {}
        self.authorizations: dict[str, Authorization] = {}
        self.captures: dict[str, Capture] = {}
        self.refunds: dict[str, Refund] = {}
        self.disputes: dict[str, Dispute] = {}
        self.return_urls: dict[str, str] = {}

    # Lookups.

    def order(self, ident: str) -> Order:
        return _get(self.orders, "order", ident)

    def authorization(self, ident: str) -> Authorization:
        return _get(self.authorizations, "authorization", ident)

    def capture(self, ident: str) -> Capture:
        return _get(self.captures, "capture", ident)

    def refund(self, ident: str) -> Refund:
        return _get(self.refunds, "refund", ident)

    # Orders.

    def create_order(self, body: Any) -> Order:
        if not isinstance(body, dict):
            raise invalid("MALFORMED_REQUEST_JSON", "the body is not a JSON object")
        intent, units = body.get("intent"), body.get("purchase_units")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise invalid("INVALID_PARAMETER_VALUE", "intent is CAPTURE or AUTHORIZE")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            raise invalid("INVALID_ARRAY_MAX_ITEMS", "the simulator takes one purchase unit")
        unit = units[0]
        currency, value = parse_amount(unit.get("amount"))
        source = body.get("payment_source")
        now = self.clock()
        order = Order(
            id=res.new_id(),
            intent=intent,
            status="PAYER_ACTION_REQUIRED" if isinstance(source, dict) else "CREATED",
            currency=currency,
            value=value,
            custom_id=unit.get("custom_id"),
            invoice_id=unit.get("invoice_id"),
            description=unit.get("description"),
            reference_id=unit.get("reference_id", "default"),
            payment_source=_public_source(source),
            created=now,
            updated=now,
        )
        self.orders[order.id] = order
        paypal = source.get("paypal") if isinstance(source, dict) else None
        context = paypal.get("experience_context") if isinstance(paypal, dict) else None
        if isinstance(context, dict) and isinstance(context.get("return_url"), str):
            self.return_urls[order.id] = context["return_url"]
        return order

    def approve(self, order: Order) -> None:
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
            raise unprocessable("ORDER_NOT_APPROVABLE", f"order {order.id} is {order.status}")
        order.status, order.updated = "APPROVED", self.clock()
        order.payer_email = "payer@example.com"
        order.payment_source = {
            "paypal": {"email_address": order.payer_email, "account_id": res.PAYER_ID}
        }

    def capture_order(
        self, order: Order, *, value: Decimal | None = None, status: str = "COMPLETED"
    ) -> Capture:
        self.ready(order, "CAPTURE")
        capture = self._new_capture(order, None, value or order.value, status)
        order.status, order.updated = "COMPLETED", self.clock()
        return capture

    def authorize_order(self, order: Order, *, value: Decimal | None = None) -> Authorization:
        self.ready(order, "AUTHORIZE")
        now = self.clock()
        item = Authorization(
            res.new_id(), order.id, "CREATED", order.currency, value or order.value,
            order.custom_id, order.invoice_id, now, now,
        )  # fmt: skip
        self.authorizations[item.id] = item
        order.authorizations.append(item.id)
        order.status, order.updated = "COMPLETED", now
        return item

    def ready(self, order: Order, intent: str) -> None:
        if order.status == "COMPLETED":
            raise unprocessable(
                f"ORDER_ALREADY_{'CAPTURED' if intent == 'CAPTURE' else 'AUTHORIZED'}", "done"
            )
        if order.status != "APPROVED":
            raise unprocessable(
                "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment."
            )
        if order.intent != intent:
            raise unprocessable(
                "ACTION_DOES_NOT_MATCH_INTENT", f"the order's intent is {order.intent}"
            )

    # Authorizations.

    def capture_authorization(self, item: Authorization, body: Any) -> Capture:
        body = body if isinstance(body, dict) else {}
        if item.status == "VOIDED":
            raise unprocessable(
                "AUTHORIZATION_VOIDED", "A voided authorization cannot be captured."
            )
        if item.status == "CAPTURED":
            raise unprocessable(
                "AUTHORIZATION_ALREADY_CAPTURED", "Authorization has already been captured."
            )
        if self.clock() > self.expires(item):
            raise unprocessable(
                "AUTHORIZATION_EXPIRED", "An expired authorization cannot be captured."
            )
        value = item.value - self._captured(item)
        if body.get("amount") is not None:
            _, value = parse_amount(body["amount"], item.currency)
        if self._captured(item) + value > item.value * OVER_CAPTURE:
            raise unprocessable(
                "MAX_CAPTURE_AMOUNT_EXCEEDED", "Capture amount exceeds allowable limit."
            )
        order = self.order(item.order_id)
        capture = self._new_capture(order, item, value, "COMPLETED")
        item.captures.append(capture.id)
        final = body.get("final_capture", True) is not False
        item.status = "CAPTURED" if final else "PARTIALLY_CAPTURED"
        item.updated = self.clock()
        return capture

    def void(self, item: Authorization) -> None:
        if item.status in ("CAPTURED", "PARTIALLY_CAPTURED"):
            raise unprocessable(
                "PREVIOUSLY_CAPTURED", "Authorization has been previously captured."
            )
        if item.status == "VOIDED":
            raise unprocessable("PREVIOUSLY_VOIDED", "Authorization has been previously voided.")
        item.status, item.updated = "VOIDED", self.clock()

    def expires(self, item: Authorization) -> datetime:
        return item.created + timedelta(days=AUTHORIZATION_DAYS)

    def _captured(self, item: Authorization) -> Decimal:
        return sum((self.captures[c].value for c in item.captures), Decimal(0))

    def _new_capture(
        self, order: Order, auth: Authorization | None, value: Decimal, status: str
    ) -> Capture:
        now = self.clock()
        capture = Capture(
            res.new_id(), order.id, auth.id if auth else None, status, order.currency, value,
            order.custom_id, order.invoice_id, now, now,
        )  # fmt: skip
        self.captures[capture.id] = capture
        order.captures.append(capture.id)
        return capture

    # Refunds.

    def refund_capture(self, capture: Capture, body: Any) -> Refund:
        body = body if isinstance(body, dict) else {}
        if capture.status == "PENDING":
            raise unprocessable(
                "PENDING_CAPTURE", "Cannot initiate a refund as the capture is pending."
            )
        if capture.status not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            issue = (
                "CAPTURE_FULLY_REFUNDED" if capture.status == "REFUNDED" else "REFUND_NOT_ALLOWED"
            )
            raise unprocessable(issue, f"the capture is {capture.status}")
        left = capture.value - self.refunded(capture, ("COMPLETED", "PENDING"))
        value = left
        if body.get("amount") is not None:
            currency = capture.currency
            try:
                _, value = parse_amount(body["amount"], currency)
            except PayPalProblem as problem:
                if problem.issue == "CURRENCY_MISMATCH":
                    raise unprocessable(
                        "REFUND_CAPTURE_CURRENCY_MISMATCH", problem.message
                    ) from None
                raise
        if value > left:
            raise unprocessable(
                "REFUND_AMOUNT_EXCEEDED",
                "The refund amount must be less than or equal to the capture amount that has "
                "not yet been refunded.",
            )
        now = self.clock()
        refund = Refund(
            res.new_id(), capture.id, capture.order_id, self.refund_status, capture.currency, value,
            body.get("invoice_id"), body.get("custom_id"), body.get("note_to_payer"), now, now,
        )  # fmt: skip
        self.refunds[refund.id] = refund
        capture.refunds.append(refund.id)
        self.settle(refund, self.refund_status)
        return refund

    def settle(self, refund: Refund, status: str, reason: str | None = None) -> None:
        """A refund ended (or started): the capture's status follows what was returned."""
        refund.status, refund.reason, refund.updated = status, reason, self.clock()
        capture = self.captures[refund.capture_id]
        returned = self.refunded(capture, ("COMPLETED",))
        if returned >= capture.value:
            capture.status = "REFUNDED"
        elif returned > 0:
            capture.status = "PARTIALLY_REFUNDED"
        else:
            capture.status = "COMPLETED"

    def refunded(self, capture: Capture, statuses: tuple[str, ...]) -> Decimal:
        chosen = (self.refunds[r] for r in capture.refunds)
        return sum((r.value for r in chosen if r.status in statuses), Decimal(0))

    # Views.

    def order_json(self, base: str, order: Order) -> dict[str, Any]:
        auths = [
            self.authorization_json(base, self.authorizations[a]) for a in order.authorizations
        ]
        captures = [views.capture_view(base, self.captures[c]) for c in order.captures]
        return views.order_view(base, order, auths, captures)

    def authorization_json(self, base: str, item: Authorization) -> dict[str, Any]:
        return views.authorization_view(base, item, self.expires(item))

    def refund_json(self, base: str, refund: Refund) -> dict[str, Any]:
        capture = self.captures[refund.capture_id]
        return views.refund_view(base, refund, self.refunded(capture, ("COMPLETED",)))


def _get(table: dict[str, T], kind: str, ident: str) -> T:
    if ident not in table:
        raise not_found(kind, ident)
    return table[ident]


def _public_source(source: Any) -> dict[str, Any] | None:
    """What an order shows of the payment source it was created with (no experience context)."""
    if not isinstance(source, dict) or not isinstance(source.get("paypal"), dict):
        return None
    paypal = source["paypal"]
    return {"paypal": {k: v for k, v in paypal.items() if k != "experience_context"}}

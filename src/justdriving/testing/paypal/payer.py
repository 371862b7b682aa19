"""The payer's and PayPal's own side of the PayPal simulator: what happens outside the API
(the payer approves, PayPal completes or denies a capture, a refund settles, a buyer disputes),
each returning the signed webhook delivery PayPal sends; mixed into PayPalSimulator."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.paypal import errors as paypal_errors
from justdriving.testing.paypal import resources as res
from justdriving.testing.paypal import signing, views
from justdriving.testing.paypal.ledger import Ledger
from justdriving.testing.paypal.problems import PayPalProblem
from justdriving.testing.paypal.resources import Authorization, Capture, Dispute, Order
from justdriving.testing.wire import Delivery

T = TypeVar("T")


class SimulatorError(Exception):
    """A test asked the simulator for something PayPal's payer or PayPal could not do."""


class PayerSide:
    """The payer's and PayPal's side, for PayPalSimulator."""

    webhook_id: str
    clock: Callable[[], datetime]
    ledger: Ledger
    deliveries: list[Delivery]
    _key: bytes
    _lock: threading.RLock

    if TYPE_CHECKING:  # PayPalSimulator's own

        @property
        def base_url(self) -> str: ...

    # The payer's and PayPal's side: each returns the delivery PayPal sends.

    def approve(self, order_id: str) -> Delivery:
        """The payer approves the order on PayPal's page."""
        with self._lock:
            order = self._order(order_id)
            self.ledger.approve(order)
            return self.announce_order(order)

    def authorize(self, order_id: str, value: str | None = None) -> Delivery:
        """The order is approved and authorized (for `value`, default the order's amount)."""
        with self._lock:
            order = self._approved(order_id)
            amount = Decimal(value) if value is not None else None
            item = self._call(lambda: self.ledger.authorize_order(order, value=amount))
            return self.announce_authorization("PAYMENT.AUTHORIZATION.CREATED", item)

    def complete_capture(self, order_id: str, value: str | None = None) -> Delivery:
        """The order's money arrived: a pending capture completes, or the order is approved
        and captured (for `value`, default its amount) at once."""
        with self._lock:
            order = self.ledger.order(order_id) if order_id in self.ledger.orders else None
            capture = self._latest(order_id, ("PENDING", "COMPLETED")) if order else None
            if capture is None:
                capture = self._capture_now(order_id, value, "COMPLETED")
            capture.status, capture.updated = "COMPLETED", self.clock()
            return self.announce_capture("PAYMENT.CAPTURE.COMPLETED", capture)

    def capture_pending(self, order_id: str, reason: str = "PENDING_REVIEW") -> Delivery:
        """The order is captured, but the money is held (eCheck, review)."""
        with self._lock:
            capture = self._capture_now(order_id, None, "PENDING")
            capture.reason = paypal_errors.check_reason("capture", reason)
            return self.announce_capture("PAYMENT.CAPTURE.PENDING", capture)

    def deny(self, order_id: str, reason: str = "OTHER") -> Delivery:
        """The order's (pending) capture is denied, for one of PayPal's capture reasons."""
        paypal_errors.check_reason("capture", reason)
        with self._lock:
            capture = self._latest(order_id, ("PENDING",)) or self._capture_now(
                order_id, None, "PENDING"
            )
            capture.status, capture.reason, capture.updated = "DECLINED", reason, self.clock()
            return self.announce_capture("PAYMENT.CAPTURE.DENIED", capture)

    def refund_completed(self, refund_id: str) -> Delivery:
        with self._lock:
            refund = self._call(lambda: self.ledger.refund(refund_id))
            if refund.status not in ("PENDING", "COMPLETED"):
                raise SimulatorError(f"refund {refund_id} is {refund.status}")
            self.ledger.settle(refund, "COMPLETED")
            return self.announce_refund("PAYMENT.CAPTURE.REFUNDED", refund)

    def refund_failed(self, refund_id: str, reason: str | None = None) -> Delivery:
        """A pending refund failed. PayPal documents no refund-failed event: this announces the
        refund with status FAILED on PAYMENT.CAPTURE.REFUNDED (an assumption; see the report).
        PayPal's refund documents one `status_details.reason`, ECHECK; none by default."""
        paypal_errors.check_reason("refund", reason)
        with self._lock:
            refund = self._call(lambda: self.ledger.refund(refund_id))
            if refund.status != "PENDING":
                raise SimulatorError(
                    f"only a pending refund can fail; {refund_id} is {refund.status}"
                )
            self.ledger.settle(refund, "FAILED", reason)
            return self.announce_refund("PAYMENT.CAPTURE.REFUNDED", refund)

    def reverse(self, order_id: str) -> Delivery:
        """PayPal takes the captured money back (a bank reversal)."""
        with self._lock:
            capture = self._latest(order_id, ("COMPLETED", "PARTIALLY_REFUNDED"))
            if capture is None:
                raise SimulatorError(f"order {order_id} has no capture to reverse")
            refund = self._call(lambda: self.ledger.refund_capture(capture, {}))
            refund.custom_id = capture.custom_id
            self.ledger.settle(refund, "COMPLETED")
            return self.announce_refund("PAYMENT.CAPTURE.REVERSED", refund)

    def expire_authorization(self, order_id: str) -> Delivery:
        with self._lock:
            created = [
                self.ledger.authorizations[a]
                for a in self._order(order_id).authorizations
                if self.ledger.authorizations[a].status == "CREATED"
            ]
            if not created:
                raise SimulatorError(f"order {order_id} has no open authorization")
            self._call(lambda: self.ledger.void(created[-1]))
            return self.announce_authorization("PAYMENT.AUTHORIZATION.VOIDED", created[-1])

    def open_dispute(self, order_id: str) -> Delivery:
        with self._lock:
            capture = self._latest(order_id, ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"))
            if capture is None:
                raise SimulatorError(f"order {order_id} has no capture to dispute")
            now = self.clock()
            dispute = Dispute(
                f"PP-D-{secrets.randbelow(10**6):06d}", capture.id, "WAITING_FOR_SELLER_RESPONSE",
                capture.currency, capture.value, capture.custom_id, now, now,
            )  # fmt: skip
            self.ledger.disputes[dispute.id] = dispute
            return self.announce_dispute("CUSTOMER.DISPUTE.CREATED", dispute)

    def update_dispute(self, dispute_id: str, status: str = "UNDER_REVIEW") -> Delivery:
        with self._lock:
            dispute = self._dispute(dispute_id)
            dispute.status, dispute.updated = status, self.clock()
            return self.announce_dispute("CUSTOMER.DISPUTE.UPDATED", dispute)

    def resolve_dispute(self, dispute_id: str, outcome: str = "RESOLVED_BUYER_FAVOUR") -> Delivery:
        with self._lock:
            dispute = self._dispute(dispute_id)
            dispute.status, dispute.outcome, dispute.updated = "RESOLVED", outcome, self.clock()
            return self.announce_dispute("CUSTOMER.DISPUTE.RESOLVED", dispute)

    def webhook(
        self, event_type: str, resource: dict[str, Any], resource_type: str = "", summary: str = ""
    ) -> Delivery:
        """Any event, delivered and signed now."""
        with self._lock:
            event = views.event(
                self.base_url, event_type, resource_type, resource, self.clock(), summary
            )
            body = json.dumps(event).encode()
            record_webhook("paypal", event_type, body)
            delivery = (body, self.sign(body))
            self.deliveries.append(delivery)
            return delivery

    def sign(
        self, body: bytes, at: datetime | None = None, webhook_id: str | None = None
    ) -> dict[str, str]:
        """The headers of a delivery of `body` at `at` to the webhook `webhook_id`."""
        sent = res.rfc3339(at or self.clock())
        transmission = str(uuid.uuid4())
        text = signing.signed_string(transmission, sent, webhook_id or self.webhook_id, body)
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission,
            "PAYPAL-TRANSMISSION-TIME": sent,
            "PAYPAL-TRANSMISSION-SIG": signing.signature(self._key, text),
            "PAYPAL-CERT-URL": signing.CERT_URL,
            "PAYPAL-AUTH-ALGO": signing.AUTH_ALGO,
        }

    # Actions' mechanics.

    def _order(self, order_id: str) -> Order:
        return self._call(lambda: self.ledger.order(order_id))

    def _approved(self, order_id: str) -> Order:
        order = self._order(order_id)
        if order.status in ("CREATED", "PAYER_ACTION_REQUIRED"):
            self.approve(order_id)
        return order

    def _capture_now(self, order_id: str, value: str | None, status: str) -> Capture:
        order = self._approved(order_id)
        amount = Decimal(value) if value is not None else None
        if order.intent == "CAPTURE":
            capture = self._call(lambda: self.ledger.capture_order(order, value=amount))
        else:
            open_ = [
                a for a in order.authorizations if self.ledger.authorizations[a].status == "CREATED"
            ]
            item = (
                self.ledger.authorizations[open_[-1]]
                if open_
                else self._call(lambda: self.ledger.authorize_order(order))
            )
            body = {"amount": res.amount(order.currency, amount)} if amount is not None else {}
            capture = self._call(lambda: self.ledger.capture_authorization(item, body))
        capture.status = status
        return capture

    def _latest(self, order_id: str, statuses: tuple[str, ...]) -> Capture | None:
        chosen = [self.ledger.captures[c] for c in self._order(order_id).captures]
        found = [c for c in chosen if c.status in statuses]
        return found[-1] if found else None

    def _dispute(self, dispute_id: str) -> Dispute:
        if dispute_id not in self.ledger.disputes:
            raise SimulatorError(f"no dispute {dispute_id}")
        return self.ledger.disputes[dispute_id]

    @staticmethod
    def _call(work: Callable[[], T]) -> T:
        try:
            return work()
        except PayPalProblem as problem:
            raise SimulatorError(str(problem)) from problem

    def announce_order(self, order: Order) -> Delivery:
        view = self.ledger.order_json(self.base_url, order)
        return self.webhook(
            "CHECKOUT.ORDER.APPROVED", view, "checkout-order", "An order has been approved by buyer"
        )

    def announce_authorization(self, event_type: str, item: Authorization) -> Delivery:
        view = self.ledger.authorization_json(self.base_url, item)
        return self.webhook(event_type, view, "authorization")

    def announce_capture(self, event_type: str, capture: Capture) -> Delivery:
        return self.webhook(event_type, views.capture_view(self.base_url, capture), "capture")

    def announce_refund(self, event_type: str, refund: res.Refund) -> Delivery:
        return self.webhook(event_type, self.ledger.refund_json(self.base_url, refund), "refund")

    def announce_dispute(self, event_type: str, dispute: Dispute) -> Delivery:
        return self.webhook(event_type, views.dispute_view(self.base_url, dispute), "dispute")

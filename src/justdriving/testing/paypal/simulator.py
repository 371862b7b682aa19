"""A local PayPal: the REST endpoints the PayPal gateway uses, on 127.0.0.1, for tests and demos.

    with PayPalSimulator() as paypal:
        gateway = PayPalGateway(paypal.client_id, paypal.client_secret, paypal.webhook_id,
                                api_base=paypal.base_url)
        session = gateway.start(request)
        body, headers = paypal.approve(session.provider_payment_id)   # the payer's side
        gateway.parse_webhook(body, headers, now)

It speaks OAuth2 client credentials (tokens expire after `token_ttl` seconds of its clock, or at
once with `expire_tokens`), replays a POST that repeats a PayPal-Request-Id, answers with
PayPal's error shapes, and signs its webhook deliveries so that its verify-webhook-signature
endpoint accepts them and nothing else (see signing.py). Failures on demand: `fail_next`,
`stall_next`, `decline_next`. Every payer or provider action returns the delivery PayPal would
send; deliveries that API calls cause (a capture completing, say) collect in `deliveries`.
Nothing happens at import time; the server runs between `start()` and `stop()`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from attrs import define

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.paypal import endpoints, signing
from justdriving.testing.paypal import errors as paypal_errors
from justdriving.testing.paypal import resources as res
from justdriving.testing.paypal.endpoints import RecordedRequest
from justdriving.testing.paypal.ledger import Ledger, PayPalProblem, unprocessable
from justdriving.testing.paypal.resources import Authorization, Capture, Dispute, Order
from justdriving.testing.wire import ApiReply

__all__ = ["Delivery", "PayPalSimulator", "RecordedRequest", "SimulatorError"]

Delivery = tuple[bytes, dict[str, str]]
T = TypeVar("T")
_ORDER_PATH = re.compile(r"/v2/checkout/orders/([^/]+)")


class SimulatorError(Exception):
    """A test asked the simulator for something PayPal's payer or PayPal could not do."""


@define
class _Failure:
    status: int
    retry_after: float | None
    path: str | None
    processed: bool
    stall: float = 0.0


class PayPalSimulator(Served):
    """PayPal's REST API in a ThreadingHTTPServer; a context manager."""

    def __init__(
        self,
        *,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",  # noqa: S107 - the simulator's own
        webhook_id: str = "SIMWEBHOOK0000001",
        token_ttl: int = 32400,
        refund_status: str = "COMPLETED",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        # Merchants (REST apps) by client id: (secret, webhook id). Each token is one app's;
        # an app sees only its own orders and verifies only its own webhook's deliveries.
        self.merchants: dict[str, tuple[str, str]] = {client_id: (client_secret, webhook_id)}
        self.order_owners: dict[str, str] = {}  # order id -> the client id that created it
        self.serving = client_id  # whose request is being answered
        self.token_ttl = token_ttl
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.ledger = Ledger(self.clock, refund_status)
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[Delivery] = []
        self.tokens_issued = 0
        self._tokens: dict[str, datetime] = {}
        self._owners: dict[str, str] = {}  # access token -> client id
        self._replays: dict[tuple[str, str], ApiReply] = {}
        self._failures: list[_Failure] = []
        self._declines: list[str] = []
        self._key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._server = LocalServer.serving(endpoints.serve(self), provider="paypal")

    # Running.

    @property
    def base_url(self) -> str:
        if not self._server.running:
            raise SimulatorError("the simulator is not running; use it as a context manager")
        return self._server.base_url

    # Failures on demand.

    def fail_next(
        self,
        status: int = 503,
        retry_after: float | None = None,
        *,
        path: str | None = None,
        processed: bool = False,
    ) -> None:
        """ApiReply the next call (to `path`, default any but the token endpoint) with `status`.
        `processed=True` does the work first and loses the answer (an ambiguous outcome)."""
        with self._lock:
            self._failures.append(_Failure(status, retry_after, path, processed))

    def stall_next(self, seconds: float, *, path: str | None = None) -> None:
        """Do the next call's work, then wait `seconds` before answering (a read timeout)."""
        with self._lock:
            self._failures.append(_Failure(200, None, path, True, stall=seconds))

    def decline_next(self, issue: str = "INSTRUMENT_DECLINED") -> None:
        """The next capture or authorization call is refused with 422 and this issue."""
        with self._lock:
            self._declines.append(issue)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (PayPal revoked or expired it)."""
        with self._lock:
            self._tokens.clear()

    # Looking in.

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self.ledger.order_json(self.base_url, self.ledger.order(order_id))

    def refunds_for(self, order_id: str) -> list[dict[str, Any]]:
        with self._lock:
            chosen = [r for r in self.ledger.refunds.values() if r.order_id == order_id]
            return [self.ledger.refund_json(self.base_url, r) for r in chosen]

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

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
            event = res.event(
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
        return self.webhook(event_type, res.capture_view(self.base_url, capture), "capture")

    def announce_refund(self, event_type: str, refund: res.Refund) -> Delivery:
        return self.webhook(event_type, self.ledger.refund_json(self.base_url, refund), "refund")

    def announce_dispute(self, event_type: str, dispute: Dispute) -> Delivery:
        return self.webhook(event_type, res.dispute_view(self.base_url, dispute), "dispute")

    # The HTTP side.

    def handle(self, request: RecordedRequest) -> tuple[ApiReply, float]:
        """One request: its answer, and how long to wait before sending it."""
        with self._lock:
            self.requests.append(request)
            failure = self._failure_for(request.path)
            if failure is not None and not failure.processed:
                return self._failure_answer(failure), 0.0
            answer = self._answer(request)
            if failure is None:
                return answer, 0.0
            if failure.stall:
                return answer, failure.stall
            return self._failure_answer(failure), 0.0

    def _failure_for(self, path: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            wanted = failure.path == path if failure.path else path != endpoints.TOKEN_PATH
            if wanted and path != endpoints.CHECKOUT_PATH:
                return self._failures.pop(index)
        return None

    def _failure_answer(self, failure: _Failure) -> ApiReply:
        headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
        return ApiReply.json(failure.status, paypal_errors.body(failure.status), **headers)

    def _answer(self, request: RecordedRequest) -> ApiReply:
        if request.path == endpoints.CHECKOUT_PATH:
            return endpoints.checkout_page(self, request)
        if request.path == endpoints.TOKEN_PATH:
            return endpoints.token(self, request)
        if not self._authorized(request):
            return ApiReply.json(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "Token signature verification failed",
                },
            )
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.serving = self._owners.get(token, self.client_id)
        foreign = self._foreign_order(request.path)
        if foreign is not None:
            return foreign
        key = (request.path, request.request_id or "")
        if request.method == "POST" and request.request_id and key in self._replays:
            return self._replays[key]
        try:
            answer = endpoints.route(self, request)
        except PayPalProblem as problem:
            return ApiReply.json(problem.status, problem.body(request.method, request.path))
        if request.method == "POST" and request.request_id and answer.status < 300:
            self._replays[key] = answer
        return answer

    def _foreign_order(self, path: str) -> ApiReply | None:
        """Another merchant's order is not found, as PayPal answers it."""
        matched = _ORDER_PATH.match(path)
        owner = self.order_owners.get(matched.group(1)) if matched else None
        if owner is None or owner == self.serving:
            return None
        problem = PayPalProblem(
            404,
            "RESOURCE_NOT_FOUND",
            "INVALID_RESOURCE_ID",
            "Specified resource ID does not exist.",
        )
        return ApiReply.json(problem.status, problem.body("GET", path))

    def _authorized(self, request: RecordedRequest) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        expires = self._tokens.get(token)
        return expires is not None and self.clock() < expires

    def add_merchant(self, client_id: str, client_secret: str, webhook_id: str) -> None:
        """Another merchant's REST app (a school's own PayPal account), with its webhook."""
        with self._lock:
            self.merchants[client_id] = (client_secret, webhook_id)

    def orders_of(self, client_id: str) -> list[str]:
        """The ids of the orders the merchant's app created."""
        with self._lock:
            return [o for o, owner in self.order_owners.items() if owner == client_id]

    def remember_token(self, token: str, client_id: str | None = None) -> None:
        """An access token issued now, valid for `token_ttl` seconds of the simulator's clock."""
        expires = self.clock().timestamp() + self.token_ttl
        self._tokens[token] = datetime.fromtimestamp(expires, UTC)
        self._owners[token] = client_id or self.client_id
        self.tokens_issued += 1

    def is_genuine(self, fields: Mapping[str, str], event: bytes) -> bool:
        """Whether a verify-webhook-signature request matches a delivery this simulator signed."""
        signed = signing.signed_string(
            fields["transmission_id"], fields["transmission_time"], fields["webhook_id"], event
        )
        return (
            fields["auth_algo"] == signing.AUTH_ALGO
            and fields["cert_url"] == signing.CERT_URL
            and signing.matches(self._key, signed, fields["transmission_sig"])
        )

    def check_decline(self) -> None:
        """Raise the 422 that decline_next asked for, if any."""
        if self._declines:
            issue = self._declines.pop(0)
            raise unprocessable(
                issue, "The instrument presented was either declined by the processor or bank."
            )

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

import re
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from attrs import define

from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.paypal import endpoints, signing
from justdriving.testing.paypal import errors as paypal_errors
from justdriving.testing.paypal.endpoints import RecordedRequest
from justdriving.testing.paypal.ledger import Ledger
from justdriving.testing.paypal.payer import PayerSide, SimulatorError
from justdriving.testing.paypal.problems import PayPalProblem, unprocessable
from justdriving.testing.wire import ApiReply, Delivery

__all__ = ["Delivery", "PayPalSimulator", "RecordedRequest", "SimulatorError"]

T = TypeVar("T")
_ORDER_PATH = re.compile(r"/v2/checkout/orders/([^/]+)")


@define
class _Failure:
    status: int
    retry_after: float | None
    path: str | None
    processed: bool
    stall: float = 0.0


class PayPalSimulator(PayerSide, Served):
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

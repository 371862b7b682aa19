"""A local Vipps MobilePay: the Access Token API, the ePayment API and the Webhooks API on
127.0.0.1, built from Vipps MobilePay's published documentation, for tests and demos.

    with MobilePaySimulator() as vipps:
        secret = vipps.register_webhook("https://school.example/webhook/payments/mobilepay")
        gateway = MobilePayGateway(vipps.credentials(), secret, url, api_base=vipps.base_url)
        session = gateway.start(request)
        body, headers = vipps.approve(session.provider_payment_id)   # the payer, in the app
        gateway.parse_webhook(body, headers, now)

What it does as Vipps MobilePay does:
- `POST /accesstoken/get` takes `client_id`, `client_secret`, `Ocp-Apim-Subscription-Key` (and
  `Merchant-Serial-Number`) as headers and answers a JWT-like token with `expires_in` as a string;
  every other call needs that Bearer token, the sales unit's subscription key and its MSN. Each
  sales unit (merchant) has its own keys, payments and webhooks (`add_merchant`).
- ePayment: create (`Idempotency-Key` required; `reference` unique per sales unit, 8-50 of
  `[a-zA-Z0-9-]`; WALLET only, as in the test environment; WEB_REDIRECT and NATIVE_REDIRECT need
  `returnUrl`, PUSH_MESSAGE a `customer.phoneNumber`), get, capture (partial allowed, never above
  what is authorized), cancel (TERMINATED before approval, CANCELLED after), refund (never above
  what was captured). A call repeated with its Idempotency-Key replays the first answer.
- Errors are RFC 7807 problems (`type`, `title`, `status`, `detail`, `traceId`, `extraDetails`).
- The payer's side: `approve` (AUTHORIZED), `reject` (ABORTED), `expire` (EXPIRED).
- Webhooks API: `POST /webhooks/v1/webhooks` registers a URL for event types and returns its
  secret; every event a registered hook asked for is delivered (kept in `deliveries`, POSTed to
  the URL when `post_deliveries`), signed with HMAC-SHA256 as the Webhooks API documents:
  `x-ms-date`, `x-ms-content-sha256` and `Authorization: HMAC-SHA256 SignedHeaders=...`.
- Recurring API (v3, recurring_api.py and agreements.py): draft an agreement
  (`Idempotency-Key`; VARIABLE or LEGACY pricing in NOK, DKK or EUR, a monthly/weekly/yearly/
  daily interval, `merchantRedirectUrl`, `merchantAgreementUrl`, `productName` required) →
  PENDING with a
  `vippsConfirmationUrl`; the student's side `approve_agreement` (ACTIVE), `reject_agreement`
  (STOPPED), `expire_agreement` (EXPIRED); get, list by status (paged), PATCH to STOPPED. Charges
  on an ACTIVE agreement only (`Idempotency-Key`; amount at least 100 minor units; description
  1-45 characters; RECURRING needs a `due` date at least one day ahead and `retryDays` 0-14,
  UNSCHEDULED takes neither; an `orderId` becomes the chargeId and is unique per sales unit); the
  charge stays PENDING until `process_charge` (CHARGED, or FAILED with a failureReason: one queued
  by `fail_next_charge`, or `charge_amount_too_high` above a VARIABLE agreement's maximum).
  Agreement and charge events (recurring.agreement-*.v1, recurring.charge-*.v1) are signed and
  delivered as ePayment's are.
Failures on demand: `fail_next`. Nothing happens at import time; the server runs between
`start()` and `stop()`.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import define

from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.mobilepay.epayment import EVENTS, EPaymentSide
from justdriving.testing.mobilepay.merchants import Merchant
from justdriving.testing.mobilepay.recurring import RECURRING_EVENTS
from justdriving.testing.mobilepay.recurring_api import RecurringApi
from justdriving.testing.mobilepay.webhooks import WebhookSide
from justdriving.testing.mobilepay.wire import Problem, SimulatorError, bad, json_body, ok
from justdriving.testing.wire import ApiReply, Delivery

__all__ = ["Delivery", "MobilePaySimulator", "SimulatorError"]

_KEY = re.compile(r"[a-zA-Z0-9-]{1,50}")


@define
class _Failure:
    status: int
    processed: bool


class MobilePaySimulator(EPaymentSide, RecurringApi, WebhookSide, Served):
    """Vipps MobilePay's APIs in a ThreadingHTTPServer; a context manager."""

    def __init__(
        self,
        *,
        msn: str = "123456",
        client_id: str = "sim-mobilepay-client",
        client_secret: str = "sim-mobilepay-secret",  # noqa: S107 - the simulator's own
        subscription_key: str = "sim-mobilepay-subscription",
        token_ttl: int = 3600,
        clock: Callable[[], datetime] | None = None,
        post_deliveries: bool = False,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.token_ttl = token_ttl
        self.post_deliveries = post_deliveries
        self.merchants: dict[str, Merchant] = {}
        self.default_msn = msn
        self.add_merchant(msn, client_id, client_secret, subscription_key)
        self.deliveries: list[Delivery] = []
        self.tokens_issued = 0
        self._tokens: dict[str, str] = {}  # token -> msn
        self._failures: list[_Failure] = []
        self._charge_failures: dict[str, list[str]] = {}
        self._lock = threading.RLock()
        self._server = LocalServer.answering(self._answer, provider="mobilepay")

    # Set-up.

    @property
    def base_url(self) -> str:
        if not self._server.running:
            raise SimulatorError("the simulator is not running; use it as a context manager")
        return self._server.base_url

    def add_merchant(
        self, msn: str, client_id: str, client_secret: str, subscription_key: str
    ) -> Merchant:
        merchant = Merchant(msn, client_id, client_secret, subscription_key)
        self.merchants[msn] = merchant
        return merchant

    def credentials(self, msn: str | None = None) -> Any:
        """The adapter's Credentials for a sales unit (the default one)."""
        from justdriving.adapters.payments.mobilepay.api import Credentials

        merchant = self.merchants[msn or self.default_msn]
        return Credentials(
            merchant.client_id, merchant.client_secret, merchant.subscription_key, merchant.msn
        )

    def register_webhook(
        self,
        url: str,
        events: tuple[str, ...] = EVENTS + RECURRING_EVENTS,
        msn: str | None = None,
    ) -> str:
        """What POST /webhooks/v1/webhooks does; returns the hook's secret."""
        with self._lock:
            return self._register(self.merchants[msn or self.default_msn], url, events)["secret"]

    def fail_next(self, status: int = 503, *, processed: bool = False) -> None:
        """Answer the next API call (not the token's) with `status`; `processed` does the work
        first and loses the answer."""
        with self._lock:
            self._failures.append(_Failure(status, processed))

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # HTTP.

    def _answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        path, _, query = target.partition("?")
        with self._lock:
            try:
                if method == "POST" and path == "/accesstoken/get":
                    return self._token(headers)
                merchant = self._authorized(headers)
                failure = self._failures.pop(0) if self._failures else None
                if failure is not None and not failure.processed:
                    return Problem(failure.status, "Service Unavailable", "try again").reply()
                reply = self._route(merchant, method, path, headers, body, query)
                if failure is not None:
                    return Problem(failure.status, "Service Unavailable", "try again").reply()
                return reply
            except Problem as problem:
                return problem.reply()

    def _route(
        self,
        merchant: Merchant,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        query: str = "",
    ) -> ApiReply:
        if path == "/webhooks/v1/webhooks" and method == "POST":
            data = json_body(body)
            url, events = data.get("url"), data.get("events")
            if not isinstance(url, str) or not isinstance(events, list) or not events:
                raise bad("url and events are required", "url")
            return ok(self._register(merchant, url, tuple(str(e) for e in events)), 201)
        if path == "/webhooks/v1/webhooks" and method == "GET":
            hooks = [{"id": h.id, "url": h.url, "events": list(h.events)}
                     for h in merchant.webhooks.values()]  # fmt: skip
            return ok({"webhooks": hooks})
        reply = self._epayment(merchant, method, path, headers, body)
        if reply is not None:
            return reply
        if path.startswith("/recurring/v3/"):
            return self._recurring(merchant, method, path, query, headers, body)
        raise Problem(404, "Not Found", f"no such endpoint: {method} {path}")

    def _token(self, headers: Mapping[str, str]) -> ApiReply:
        merchant = next(
            (
                m
                for m in self.merchants.values()
                if hmac.compare_digest(headers.get("client_id", ""), m.client_id)
                and hmac.compare_digest(headers.get("client_secret", ""), m.client_secret)
                and hmac.compare_digest(
                    headers.get("ocp-apim-subscription-key", ""), m.subscription_key
                )
            ),
            None,
        )
        if merchant is None:
            body = {"error": "unauthorized_client", "error_description": "AADSTS7000215"}
            return ApiReply(401, json.dumps(body).encode(), {"Content-Type": "application/json"})
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(24)
        self._tokens[token] = merchant.msn
        self.tokens_issued += 1
        now = int(self.clock().timestamp())
        return ok(
            {
                "token_type": "Bearer",
                "expires_in": str(self.token_ttl),
                "ext_expires_in": str(self.token_ttl),
                "expires_on": str(now + self.token_ttl),
                "not_before": str(now),
                "resource": "00000002-0000-0000-c000-000000000000",
                "access_token": token,
            }
        )

    def _authorized(self, headers: Mapping[str, str]) -> Merchant:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        msn = self._tokens.get(token) if scheme == "Bearer" else None
        if msn is None:
            raise Problem(401, "Unauthorized", "the access token is missing, expired or wrong")
        merchant = self.merchants[msn]
        if headers.get("ocp-apim-subscription-key") != merchant.subscription_key:
            raise Problem(401, "Unauthorized", "Access denied due to invalid subscription key")
        if headers.get("merchant-serial-number", msn) != msn:
            raise Problem(403, "Forbidden", "the token is not for this merchant serial number")
        return merchant

    def _idempotent(
        self,
        merchant: Merchant,
        path: str,
        headers: Mapping[str, str],
        work: Callable[[], ApiReply],
        pattern: re.Pattern[str] = _KEY,
    ) -> ApiReply:
        key = headers.get("idempotency-key", "")
        if not pattern.fullmatch(key):
            raise bad("the Idempotency-Key header is required: 1-50 of [a-zA-Z0-9-]",
                       "Idempotency-Key")  # fmt: skip
        earlier = merchant.replays.get((path, key))
        if earlier is not None:
            return earlier
        reply = work()
        merchant.replays[(path, key)] = reply
        return reply

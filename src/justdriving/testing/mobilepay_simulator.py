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
- Recurring API (v3, in mobilepay_agreements): draft an agreement (`Idempotency-Key`; VARIABLE or
  LEGACY pricing in NOK, DKK or EUR, a monthly/weekly/yearly/daily interval,
  `merchantRedirectUrl`, `merchantAgreementUrl`, `productName` required) → PENDING with a
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

import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from attrs import define, field

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.local_server import LocalServer, Served
from justdriving.testing.mobilepay_agreements import (
    RECURRING_EVENTS,
    Agreement,
    Charge,
    RecurringSide,
)
from justdriving.testing.mobilepay_wire import (
    Delivery,
    Problem,
    SimulatorError,
    bad,
    json_body,
    ok,
)
from justdriving.testing.stripe_api import ApiReply

__all__ = ["Delivery", "MobilePaySimulator", "SimulatorError"]

CURRENCIES = frozenset({"NOK", "DKK", "EUR", "SEK"})
EVENTS = tuple(
    f"epayments.payment.{name}.v1"
    for name in (
        "created",
        "aborted",
        "expired",
        "cancelled",
        "captured",
        "refunded",
        "authorized",
        "terminated",
    )
)
_REFERENCE = re.compile(r"[a-zA-Z0-9-]{8,50}")
_KEY = re.compile(r"[a-zA-Z0-9-]{1,50}")
_PHONE = re.compile(r"[0-9]{10,15}")
_PAYMENT = re.compile(r"/epayment/v1/payments/([^/]+)")
_FORCE_APPROVE = re.compile(r"/epayment/v1/test/payments/([^/]+)/approve")
_ACTION = re.compile(r"/epayment/v1/payments/([^/]+)/(capture|cancel|refund)")


@define
class Merchant:
    msn: str
    client_id: str
    client_secret: str = field(repr=False)
    subscription_key: str = field(repr=False)
    payments: dict[str, Payment] = field(factory=dict)
    replays: dict[tuple[str, str], ApiReply] = field(factory=dict)
    webhooks: dict[str, Webhook] = field(factory=dict)
    agreements: dict[str, Agreement] = field(factory=dict)
    charges: dict[str, Charge] = field(factory=dict)


@define
class Webhook:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str = field(repr=False)


@define
class Payment:
    reference: str
    currency: str
    value: int
    flow: str
    psp: str
    state: str = "CREATED"
    authorized: int = 0
    captured: int = 0
    cancelled: int = 0
    refunded: int = 0
    redirect_url: str | None = None
    refunds: list[dict[str, Any]] = field(factory=list)
    created_delivery: list[Delivery] = field(factory=list)

    def money(self, value: int) -> dict[str, Any]:
        return {"currency": self.currency, "value": value}

    def aggregate(self) -> dict[str, Any]:
        return {
            "authorizedAmount": self.money(self.authorized),
            "cancelledAmount": self.money(self.cancelled),
            "capturedAmount": self.money(self.captured),
            "refundedAmount": self.money(self.refunded),
        }


@define
class _Failure:
    status: int
    processed: bool


class MobilePaySimulator(RecurringSide, Served):
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

    # Looking in.

    def payment(self, reference: str, msn: str | None = None) -> Payment:
        with self._lock:
            found = self.merchants[msn or self.default_msn].payments.get(reference)
            if found is None:
                raise SimulatorError(f"no payment {reference}")
            return found

    def payment_count(self, msn: str | None = None) -> int:
        with self._lock:
            return len(self.merchants[msn or self.default_msn].payments)

    def delivery_of(self, psp_reference: str) -> Delivery:
        """The delivery of the event of one operation (a refund's, a capture's)."""
        with self._lock:
            for body, headers in reversed(self.deliveries):
                if json.loads(body).get("pspReference") == psp_reference:
                    return body, headers
        raise SimulatorError(f"no delivery for {psp_reference}")

    # The payer, in the app.

    def approve(self, reference: str) -> Delivery:
        """The payer approves: the amount is reserved (AUTHORIZED)."""
        with self._lock:
            payment = self._in_state(reference, "CREATED")
            payment.state, payment.authorized = "AUTHORIZED", payment.value
            return self._emit(payment, "AUTHORIZED", payment.value, payment.psp)

    def reject(self, reference: str) -> Delivery:
        with self._lock:
            payment = self._in_state(reference, "CREATED")
            payment.state = "ABORTED"
            return self._emit(payment, "ABORTED", payment.value, payment.psp)

    def expire(self, reference: str) -> Delivery:
        with self._lock:
            payment = self._in_state(reference, "CREATED")
            payment.state = "EXPIRED"
            return self._emit(payment, "EXPIRED", payment.value, payment.psp)

    def created(self, reference: str) -> Delivery:
        """The CREATED delivery the payment had (delivered again, as a retry would)."""
        with self._lock:
            payment = self.payment(reference)
            if not payment.created_delivery:
                raise SimulatorError("no webhook was registered for epayments.payment.created.v1")
            return payment.created_delivery[-1]

    def capture_now(self, reference: str, value: int | None = None) -> Delivery:
        """What the merchant's capture call does, without the call (the driver's shortcut)."""
        with self._lock:
            merchant = self.merchants[self.default_msn]
            payment = self._in_state(reference, "AUTHORIZED")
            _, delivery = self._capture(merchant, payment, value or payment.authorized, None)
            return delivery

    def other_event(self, reference: str, name: str) -> Delivery:
        """An ePayment-shaped event of a type this project does not handle (a new one)."""
        with self._lock:
            payment = self.payment(reference)
            return self._emit(payment, name, payment.value, uuid.uuid4().hex, force=True)

    # Signing, as the Webhooks API documents it.

    @staticmethod
    def sign(body: bytes, at: datetime, secret: str, url: str) -> dict[str, str]:
        """The headers a delivery of `body` to `url` carries, signed with the hook's secret."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        date = format_datetime(at.astimezone(UTC), usegmt=True)
        hashed = base64.b64encode(hashlib.sha256(body).digest()).decode()
        signed = f"POST\n{path}\n{date};{parts.netloc};{hashed}"
        mac = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()
        signature = base64.b64encode(mac).decode()
        return {
            "Content-Type": "application/json",
            "Host": parts.netloc,
            "x-ms-date": date,
            "x-ms-content-sha256": hashed,
            "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
            f"&Signature={signature}",
        }

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
        if method == "POST" and path == "/epayment/v1/payments":
            return self._idempotent(merchant, path, headers, lambda: self._create(merchant, body))
        action = _ACTION.fullmatch(path)
        if method == "POST" and action:
            payment = self._find(merchant, unquote(action.group(1)))
            key = headers.get("idempotency-key")
            verb = action.group(2)
            return self._idempotent(
                merchant, path, headers, lambda: self._modify(merchant, payment, verb, body, key)
            )
        forced = _FORCE_APPROVE.fullmatch(path)
        if method == "POST" and forced:
            return self._force_approve(self._find(merchant, unquote(forced.group(1))), body)
        found = _PAYMENT.fullmatch(path)
        if method == "GET" and found:
            return ok(self._view(self._find(merchant, unquote(found.group(1)))))
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

    # ePayment.

    def _create(self, merchant: Merchant, body: bytes) -> ApiReply:
        data = json_body(body)
        amount: dict[str, Any] = data["amount"] if isinstance(data.get("amount"), dict) else {}
        currency, value = amount.get("currency"), amount.get("value")
        if currency not in CURRENCIES:
            raise bad("amount.currency must be NOK, DKK, EUR or SEK", "amount.currency")
        if type(value) is not int or value < 1:
            raise bad("amount.value is a positive integer in minor units", "amount.value")
        method = data.get("paymentMethod")
        if not isinstance(method, dict) or method.get("type") != "WALLET":
            raise bad("paymentMethod.type must be WALLET (CARD is not in the test environment)",
                       "paymentMethod.type")  # fmt: skip
        reference = data.get("reference")
        if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
            raise bad("reference must be 8-50 of [a-zA-Z0-9-]", "reference")
        if reference in merchant.payments:
            raise Problem(409, "Conflict", "the reference is already used", "reference")
        flow = data.get("userFlow")
        customer: dict[str, Any] = (
            data["customer"] if isinstance(data.get("customer"), dict) else {}
        )
        phone = customer.get("phoneNumber")
        if phone is not None and (not isinstance(phone, str) or not _PHONE.fullmatch(phone)):
            raise bad("customer.phoneNumber is an MSISDN: 10-15 digits", "customer.phoneNumber")
        if flow in ("WEB_REDIRECT", "NATIVE_REDIRECT"):
            if not isinstance(data.get("returnUrl"), str) or not data["returnUrl"]:
                raise bad("returnUrl is required for this userFlow", "returnUrl")
        elif flow == "PUSH_MESSAGE":
            if phone is None:
                raise bad("PUSH_MESSAGE needs customer.phoneNumber", "customer.phoneNumber")
        elif flow != "QR":
            raise bad("userFlow must be WEB_REDIRECT, NATIVE_REDIRECT, PUSH_MESSAGE or QR",
                       "userFlow")  # fmt: skip
        description = data.get("paymentDescription")
        if description is not None and (
            not isinstance(description, str) or not 3 <= len(description) <= 100
        ):
            raise bad("paymentDescription is 3 to 100 characters", "paymentDescription")
        payment = Payment(reference, str(currency), value, str(flow), uuid.uuid4().hex)
        if flow != "PUSH_MESSAGE":
            payment.redirect_url = f"{self.base_url}/landing?token={secrets.token_urlsafe(16)}"
        merchant.payments[reference] = payment
        delivery = self._emit(payment, "CREATED", value, payment.psp)
        payment.created_delivery.append(delivery)
        answer: dict[str, Any] = {"reference": reference}
        if payment.redirect_url:
            answer["redirectUrl"] = payment.redirect_url
        return ok(answer, 201)

    def _force_approve(self, payment: Payment, body: bytes) -> ApiReply:
        """The test environment's force approve: a test user approves without the app."""
        data = json_body(body)
        customer = data.get("customer")
        phone = customer.get("phoneNumber") if isinstance(customer, dict) else None
        if not isinstance(phone, str | int) or not _PHONE.fullmatch(str(phone)):
            raise bad("customer.phoneNumber names the test user", "customer.phoneNumber")
        if payment.state != "CREATED":
            raise bad(f"a {payment.state} payment cannot be approved", "state")
        payment.state, payment.authorized = "AUTHORIZED", payment.value
        self._emit(payment, "AUTHORIZED", payment.value, payment.psp)
        return ApiReply(200, b"", {})

    def _modify(
        self, merchant: Merchant, payment: Payment, verb: str, body: bytes, key: str | None
    ) -> ApiReply:
        if verb == "cancel":
            return self._cancel(payment, key)
        data = json_body(body)
        amount = data.get("modificationAmount")
        if not isinstance(amount, dict):
            raise bad("modificationAmount is required", "modificationAmount")
        value = amount.get("value")
        if amount.get("currency") != payment.currency:
            raise bad("modificationAmount.currency is not the payment's",
                       "modificationAmount.currency")  # fmt: skip
        if type(value) is not int or value < 1:
            raise bad("modificationAmount.value is a positive integer", "modificationAmount")
        if verb == "capture":
            if payment.state != "AUTHORIZED":
                raise bad(f"a {payment.state} payment cannot be captured", "state")
            reply, _ = self._capture(merchant, payment, value, key)
            return reply
        if value > payment.captured - payment.refunded:
            raise bad("the refund is more than was captured and not yet refunded",
                       "modificationAmount.value")  # fmt: skip
        payment.refunded += value
        psp = uuid.uuid4().hex
        payment.refunds.append({"value": value, "pspReference": psp, "idempotencyKey": key})
        self._emit(payment, "REFUNDED", value, psp, key=key)
        return ok(self._adjustment(payment, value, psp))

    def _capture(
        self, merchant: Merchant, payment: Payment, value: int, key: str | None
    ) -> tuple[ApiReply, Delivery]:
        if value > payment.authorized - payment.captured - payment.cancelled:
            raise bad("the capture is more than is authorized and not yet captured",
                       "modificationAmount.value")  # fmt: skip
        payment.captured += value
        psp = uuid.uuid4().hex
        delivery = self._emit(payment, "CAPTURED", value, psp, key=key)
        return ok(self._adjustment(payment, value, psp)), delivery

    def _cancel(self, payment: Payment, key: str | None) -> ApiReply:
        psp = uuid.uuid4().hex
        if payment.state == "CREATED":
            payment.state = "TERMINATED"
            self._emit(payment, "TERMINATED", payment.value, psp, key=key)
            return ok(self._adjustment(payment, payment.value, psp))
        if payment.state != "AUTHORIZED":
            raise bad(f"a {payment.state} payment cannot be cancelled", "state")
        left = payment.authorized - payment.captured - payment.cancelled
        if left <= 0:
            raise bad("nothing is left to cancel: the payment is captured", "state")
        payment.cancelled += left
        payment.state = "TERMINATED"
        self._emit(payment, "CANCELLED", left, psp, key=key)
        return ok(self._adjustment(payment, left, psp))

    def _view(self, payment: Payment) -> dict[str, Any]:
        view: dict[str, Any] = {
            "aggregate": payment.aggregate(),
            "amount": payment.money(payment.value),
            "state": payment.state,
            "paymentMethod": {"type": "WALLET"},
            "profile": {},
            "pspReference": payment.psp,
            "reference": payment.reference,
        }
        if payment.redirect_url:
            view["redirectUrl"] = payment.redirect_url
        return view

    def _adjustment(self, payment: Payment, value: int, psp: str) -> dict[str, Any]:
        return {
            "amount": payment.money(payment.value),
            "state": payment.state,
            "aggregate": payment.aggregate(),
            "pspReference": psp,
            "reference": payment.reference,
        }

    def _find(self, merchant: Merchant, reference: str) -> Payment:
        payment = merchant.payments.get(reference)
        if payment is None:
            raise Problem(404, "Not Found", f"no payment with reference {reference[:60]}")
        return payment

    def _in_state(self, reference: str, state: str) -> Payment:
        payment = self.payment(reference)
        if payment.state != state:
            raise SimulatorError(f"payment {reference} is {payment.state}, not {state}")
        return payment

    # Webhooks.

    def _register(self, merchant: Merchant, url: str, events: tuple[str, ...]) -> dict[str, str]:
        hook = Webhook(
            str(uuid.uuid4()), url, events, base64.b64encode(secrets.token_bytes(48)).decode()
        )
        merchant.webhooks[hook.id] = hook
        return {"id": hook.id, "secret": hook.secret}

    def _emit(
        self,
        payment: Payment,
        name: str,
        value: int,
        psp: str,
        *,
        key: str | None = None,
        force: bool = False,
    ) -> Delivery:
        merchant = next(m for m in self.merchants.values() if payment in m.payments.values())
        event_type = f"epayments.payment.{name.lower()}.v1"
        payload = {
            "msn": merchant.msn,
            "reference": payment.reference,
            "pspReference": psp,
            "name": name,
            "amount": payment.money(value),
            "timestamp": self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "idempotencyKey": key,
            "success": True,
        }
        body = json.dumps(payload).encode()
        last: Delivery | None = None
        for hook in merchant.webhooks.values():
            if event_type not in hook.events and not force:
                continue
            headers = self.sign(body, self.clock(), hook.secret, hook.url)
            last = (body, headers)
            self.deliveries.append(last)
            record_webhook("mobilepay", event_type, body)
            if self.post_deliveries:
                self._post(hook.url, body, headers)
        if last is None:
            return body, {}
        return last

    def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        import httpx

        # Vipps MobilePay would retry a failed delivery; a test reads `deliveries` instead.
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(url, content=body, headers=dict(headers), timeout=10)

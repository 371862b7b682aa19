"""The ePayment API of the Vipps MobilePay simulator: payments created, captured, cancelled
and refunded by the merchant, approved, rejected or left to expire by the payer in the app,
and their events (epayments.payment.*.v1)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from justdriving.testing.mobilepay.merchants import Merchant, Shared
from justdriving.testing.mobilepay.payments import Payment
from justdriving.testing.mobilepay.wire import Problem, SimulatorError, bad, json_body, ok
from justdriving.testing.wire import ApiReply, Delivery

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
_PHONE = re.compile(r"[0-9]{10,15}")
_PAYMENT = re.compile(r"/epayment/v1/payments/([^/]+)")
_FORCE_APPROVE = re.compile(r"/epayment/v1/test/payments/([^/]+)/approve")
_ACTION = re.compile(r"/epayment/v1/payments/([^/]+)/(capture|cancel|refund)")


class EPaymentSide(Shared):
    """The ePayment endpoints and the payer's side of them, for MobilePaySimulator."""

    # Looking in.

    def payment(self, reference: str, msn: str | None = None) -> Payment:
        return self._kept(lambda m: m.payments, reference, msn, "payment")

    def payment_count(self, msn: str | None = None) -> int:
        with self._lock:
            return len(self.merchants[msn or self.default_msn].payments)

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

    # The API.

    def _epayment(
        self, merchant: Merchant, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> ApiReply | None:
        """The answer of an ePayment endpoint; None for a path that is none of them."""
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
            return ok(self._find(merchant, unquote(found.group(1))).view())
        return None

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
        return ok(payment.adjustment(psp))

    def _capture(
        self, merchant: Merchant, payment: Payment, value: int, key: str | None
    ) -> tuple[ApiReply, Delivery]:
        if value > payment.authorized - payment.captured - payment.cancelled:
            raise bad("the capture is more than is authorized and not yet captured",
                       "modificationAmount.value")  # fmt: skip
        payment.captured += value
        psp = uuid.uuid4().hex
        delivery = self._emit(payment, "CAPTURED", value, psp, key=key)
        return ok(payment.adjustment(psp)), delivery

    def _cancel(self, payment: Payment, key: str | None) -> ApiReply:
        psp = uuid.uuid4().hex
        if payment.state == "CREATED":
            payment.state = "TERMINATED"
            self._emit(payment, "TERMINATED", payment.value, psp, key=key)
            return ok(payment.adjustment(psp))
        if payment.state != "AUTHORIZED":
            raise bad(f"a {payment.state} payment cannot be cancelled", "state")
        left = payment.authorized - payment.captured - payment.cancelled
        if left <= 0:
            raise bad("nothing is left to cancel: the payment is captured", "state")
        payment.cancelled += left
        payment.state = "TERMINATED"
        self._emit(payment, "CANCELLED", left, psp, key=key)
        return ok(payment.adjustment(psp))

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
        payload = {
            "msn": merchant.msn,
            "reference": payment.reference,
            "pspReference": psp,
            "name": name,
            "amount": payment.money(value),
            "timestamp": self._now_text(),
            "idempotencyKey": key,
            "success": True,
        }
        event_type = f"epayments.payment.{name.lower()}.v1"
        return self._deliver(merchant, event_type, json.dumps(payload).encode(), force=force)

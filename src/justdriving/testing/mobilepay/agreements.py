"""The Recurring API (v3) of the Vipps MobilePay simulator: agreements the student approves in
the app, charges the merchant creates on them, and their signed webhooks (see
mobilepay_simulator for the whole simulator; this is mixed into it)."""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from attrs import define, field

from justdriving.testing.exchanges import record_webhook
from justdriving.testing.mobilepay.wire import (
    Delivery,
    Problem,
    SimulatorError,
    json_body,
    ok,
)
from justdriving.testing.wire import ApiReply

if TYPE_CHECKING:
    from justdriving.testing.mobilepay.simulator import Merchant

RECURRING_EVENTS = tuple(
    f"recurring.{name}.v1"
    for name in (
        "agreement-activated",
        "agreement-rejected",
        "agreement-stopped",
        "agreement-expired",
        "charge-reserved",
        "charge-captured",
        "charge-canceled",
        "charge-failed",
        "charge-creation-failed",
        "charge-refunded",
    )
)
RECURRING_CURRENCIES = frozenset({"NOK", "DKK", "EUR"})
FAILURE_REASONS = frozenset(
    {"user_action_required", "charge_amount_too_high", "non_technical_error", "technical_error"}
)
_COUNTRY = {"NOK": "NO", "DKK": "DK", "EUR": "FI"}
_KEY_V3 = re.compile(r"[^#?/\\]{1,40}")
_INTERVALS = frozenset({"YEAR", "MONTH", "WEEK", "DAY"})
_AGREEMENT = re.compile(r"/recurring/v3/agreements/([^/]+)")
_CHARGES = re.compile(r"/recurring/v3/agreements/([^/]+)/charges")
_CHARGE = re.compile(r"/recurring/v3/agreements/([^/]+)/charges/([^/]+)")
_ORDER_ID = re.compile(r"[a-zA-Z0-9-]{1,50}")
_PHONE = re.compile(r"[0-9]{10,15}")


@define
class Agreement:
    id: str
    currency: str
    pricing: dict[str, Any]
    interval: dict[str, Any]
    product_name: str
    external_id: str | None
    confirmation_url: str
    created: str
    redirect_url: str
    agreement_url: str
    country: str
    status: str = "PENDING"
    start: str | None = None
    stop: str | None = None

    def view(self) -> dict[str, Any]:
        pricing = {k: v for k, v in self.pricing.items() if k != "type"}
        variable = self.pricing.get("type") == "VARIABLE"
        pricing["type"] = "VariableAmountPricingResponse" if variable else "LegacyPricingResponse"
        if variable and self.status == "ACTIVE":
            pricing["maxAmount"] = self.pricing["suggestedMaxAmount"]  # the student's choice
        view: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "pricing": pricing,
            "interval": self.interval,
            "productName": self.product_name,
            "created": self.created,
            "start": self.start,
            "stop": self.stop,
            "merchantRedirectUrl": self.redirect_url,
            "merchantAgreementUrl": self.agreement_url,
            "countryCode": self.country,
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.id)),
        }
        if self.external_id is not None:
            view["externalId"] = self.external_id
        return view


@define
class Charge:
    id: str
    agreement: Agreement
    amount: int
    description: str
    type: str
    transaction_type: str
    due: str
    retry_days: int = 0
    status: str = "PENDING"
    failure_reason: str | None = None
    history: list[dict[str, Any]] = field(factory=list)

    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": self.id,
            "agreementId": self.agreement.id,
            "amount": self.amount,
            "currency": self.agreement.currency,
            "description": self.description,
            "due": self.due,
            "status": self.status,
            "type": self.type,
            "transactionType": self.transaction_type,
            "retryDays": self.retry_days,
            "externalId": self.id,
            "transactionId": None,
            "summary": {
                "captured": self.amount if self.status == "CHARGED" else 0,
                "refunded": 0,
                "cancelled": self.amount if self.status == "CANCELLED" else 0,
            },
            "history": self.history,
        }
        if self.agreement.external_id is not None:
            view["externalAgreementId"] = self.agreement.external_id
        if self.failure_reason:
            view["failureReason"] = self.failure_reason
            view["failureDescription"] = f"The charge failed: {self.failure_reason}"
        return view


class RecurringSide:
    """The Recurring API's endpoints and the student's side of it, for MobilePaySimulator."""

    merchants: dict[str, Merchant]
    default_msn: str
    clock: Callable[[], datetime]
    deliveries: list[Delivery]
    post_deliveries: bool
    _lock: threading.RLock
    _charge_failures: dict[str, list[str]]

    if TYPE_CHECKING:  # MobilePaySimulator's own

        @property
        def base_url(self) -> str: ...

        @staticmethod
        def sign(body: bytes, at: datetime, secret: str, url: str) -> dict[str, str]: ...

        def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None: ...

        def _idempotent(
            self,
            merchant: Merchant,
            path: str,
            headers: Mapping[str, str],
            work: Callable[[], ApiReply],
            pattern: re.Pattern[str] = ...,
        ) -> ApiReply: ...

    # The student's side of the Recurring API, and Vipps MobilePay's processing of charges.

    def agreement(self, agreement_id: str, msn: str | None = None) -> Agreement:
        with self._lock:
            found = self.merchants[msn or self.default_msn].agreements.get(agreement_id)
            if found is None:
                raise SimulatorError(f"no agreement {agreement_id}")
            return found

    def approve_agreement(self, agreement_id: str) -> Delivery:
        """The student approves the agreement in the app (strong authentication there)."""
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status, agreement.start = "ACTIVE", self._now_text()
            return self._emit_agreement(agreement, "agreement-activated", "USER")

    def reject_agreement(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            return self._emit_agreement(agreement, "agreement-rejected", "USER")

    def expire_agreement(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "PENDING")
            agreement.status = "EXPIRED"
            return self._emit_agreement(agreement, "agreement-expired", "VIPPS")

    def stop_agreement_in_app(self, agreement_id: str) -> Delivery:
        with self._lock:
            agreement = self._agreement_in(agreement_id, "ACTIVE")
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            return self._emit_agreement(agreement, "agreement-stopped", "USER")

    def fail_next_charge(self, agreement_id: str, reason: str) -> None:
        """The next charge processed on the agreement fails for `reason` (a failureReason)."""
        if reason not in FAILURE_REASONS:
            raise SimulatorError(f"Vipps MobilePay gives no failureReason {reason!r}")
        with self._lock:
            self._charge_failures.setdefault(agreement_id, []).append(reason)

    def charge(self, charge_id: str, msn: str | None = None) -> Charge:
        with self._lock:
            found = self.merchants[msn or self.default_msn].charges.get(charge_id)
            if found is None:
                raise SimulatorError(f"no charge {charge_id}")
            return found

    def charge_count(self, msn: str | None = None) -> int:
        with self._lock:
            return len(self.merchants[msn or self.default_msn].charges)

    def process_charge(self, charge_id: str) -> Delivery:
        """Vipps MobilePay processes a PENDING charge (an UNSCHEDULED one at once, a RECURRING
        one on its due date): CHARGED, or FAILED with its reason."""
        with self._lock:
            charge = self.charge(charge_id)
            if charge.status != "PENDING":
                raise SimulatorError(f"charge {charge_id} is {charge.status}, not PENDING")
            queued = self._charge_failures.get(charge.agreement.id) or []
            maximum = charge.agreement.pricing.get("suggestedMaxAmount")
            if queued:
                charge.failure_reason = queued.pop(0)
            elif charge.agreement.status != "ACTIVE":
                charge.failure_reason = "non_technical_error"
            elif isinstance(maximum, int) and charge.amount > maximum:
                charge.failure_reason = "charge_amount_too_high"
            key = uuid.uuid4().hex
            if charge.failure_reason:
                charge.status = "FAILED"
                charge.history.append(self._history("FAIL", charge.amount, key, success=False))
                return self._emit_charge(charge, "charge-failed")
            charge.status = "CHARGED"
            charge.history.append(self._history("CAPTURE", charge.amount, key))
            return self._emit_charge(charge, "charge-captured")

    # Recurring API.

    def _recurring(
        self,
        merchant: Merchant,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> ApiReply:
        if path == "/recurring/v3/agreements" and method == "POST":
            return self._idempotent(merchant, path, headers, lambda: self._draft(merchant, body))
        if path == "/recurring/v3/agreements" and method == "GET":
            return ok(self._list(merchant, query))  # a JSON array, as ListAgreementsV3
        charge = _CHARGE.fullmatch(path)
        if charge and method == "GET":
            agreement = self._agreement_of(merchant, unquote(charge.group(1)))
            found = merchant.charges.get(unquote(charge.group(2)))
            if found is None or found.agreement is not agreement:
                raise _recurring_problem(404, "not-found", "no such charge")
            return ok(found.view())
        charges = _CHARGES.fullmatch(path)
        if charges and method == "POST":
            agreement = self._agreement_of(merchant, unquote(charges.group(1)))
            return self._idempotent(
                merchant,
                path,
                headers,
                lambda: self._create_charge(merchant, agreement, body, headers),
                _KEY_V3,
            )
        one = _AGREEMENT.fullmatch(path)
        if one and method == "GET":
            return ok(self._agreement_of(merchant, unquote(one.group(1))).view())
        if one and method == "PATCH":
            agreement = self._agreement_of(merchant, unquote(one.group(1)))
            return self._idempotent(merchant, path, headers, lambda: self._patch(agreement, body))
        raise Problem(404, "Not Found", f"no such endpoint: {method} {path}")

    def _draft(self, merchant: Merchant, body: bytes) -> ApiReply:
        data = json_body(body)
        pricing = data.get("pricing")
        if not isinstance(pricing, dict) or pricing.get("currency") not in RECURRING_CURRENCIES:
            raise _recurring_problem(400, "validation-error", "pricing.currency: NOK, DKK or EUR")
        kind = pricing.get("type", "LEGACY")
        amount_field = "suggestedMaxAmount" if kind == "VARIABLE" else "amount"
        if kind not in ("LEGACY", "VARIABLE") or type(pricing.get(amount_field)) is not int:
            raise _recurring_problem(400, "validation-error", f"pricing.{amount_field} is required")
        if pricing[amount_field] < 100:
            raise _recurring_problem(400, "validation-error", f"pricing.{amount_field} >= 100")
        interval = data.get("interval")
        if (
            not isinstance(interval, dict)
            or interval.get("unit") not in _INTERVALS
            or type(interval.get("count")) is not int
            or not 1 <= interval["count"] <= 31
        ):
            raise _recurring_problem(400, "validation-error", "interval: {unit, count 1-31}")
        for name in ("merchantRedirectUrl", "merchantAgreementUrl"):
            url = data.get(name)
            if not isinstance(url, str) or not url.startswith("https://"):
                raise _recurring_problem(400, "validation-error", f"{name} is an https URL")
        product = data.get("productName")
        if not isinstance(product, str) or not 1 <= len(product) <= 45:
            raise _recurring_problem(400, "validation-error", "productName is 1-45 characters")
        phone = data.get("phoneNumber")
        if phone is not None and (not isinstance(phone, str) or not _PHONE.fullmatch(phone)):
            raise _recurring_problem(400, "validation-error", "phoneNumber is an MSISDN")
        external = data.get("externalId")
        if external is not None and not isinstance(external, str):
            raise _recurring_problem(400, "validation-error", "externalId is a string")
        agreement_id = "agr_" + secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
        agreement = Agreement(
            agreement_id,
            str(pricing["currency"]),
            dict(pricing),
            dict(interval),
            product,
            external,
            f"{self.base_url}/landing/agreement?token={secrets.token_urlsafe(16)}",
            self._now_text(),
            data["merchantRedirectUrl"],
            data["merchantAgreementUrl"],
            _COUNTRY[str(pricing["currency"])],
        )
        merchant.agreements[agreement_id] = agreement
        answer = {
            "agreementId": agreement_id,
            "vippsConfirmationUrl": agreement.confirmation_url,
            "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, agreement_id)),
        }
        return ok(answer, 201)

    def _list(self, merchant: Merchant, query: str) -> list[dict[str, Any]]:
        params = dict(parse_qsl(query))
        status = params.get("status", "ACTIVE")
        try:
            page, size = int(params.get("pageNumber", "1")), int(params.get("pageSize", "1000"))
        except ValueError:
            raise _recurring_problem(400, "validation-error", "pageNumber, pageSize") from None
        if page < 1 or not 1 <= size <= 1000:
            raise _recurring_problem(400, "validation-error", "pageNumber >= 1, pageSize 1-1000")
        matching = [a.view() for a in merchant.agreements.values() if a.status == status]
        return matching[(page - 1) * size : page * size]

    def _patch(self, agreement: Agreement, body: bytes) -> ApiReply:
        data = json_body(body)
        if data.get("status") not in (None, "STOPPED"):
            raise _recurring_problem(400, "validation-error", "status can only become STOPPED")
        if data.get("status") == "STOPPED" and agreement.status in ("PENDING", "ACTIVE"):
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            for charge in self._charges_of(agreement):
                if charge.status == "PENDING":
                    charge.status = "CANCELLED"
            self._emit_agreement(agreement, "agreement-stopped", "MERCHANT")
        elif data.get("status") == "STOPPED":
            raise _recurring_problem(400, "illegal-agreement-update", "the agreement is not active")
        return ApiReply(204, b"", {})

    def _create_charge(
        self, merchant: Merchant, agreement: Agreement, body: bytes, headers: Mapping[str, str]
    ) -> ApiReply:
        data = json_body(body)
        if agreement.status != "ACTIVE":
            raise _recurring_problem(400, "invalid-agreement-status", "the agreement is not ACTIVE")
        amount = data.get("amount")
        if type(amount) is not int or amount < 100:
            raise _recurring_problem(400, "validation-error", "amount is at least 100 minor units")
        if data.get("transactionType") not in ("DIRECT_CAPTURE", "RESERVE_CAPTURE"):
            raise _recurring_problem(400, "validation-error", "transactionType")
        description = data.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 45:
            raise _recurring_problem(400, "validation-error", "description is 1-45 characters")
        kind = data.get("type", "RECURRING")
        retry = 0
        today = self.clock().astimezone(UTC).date()
        if kind == "UNSCHEDULED":
            if "due" in data or data.get("retryDays"):
                raise _recurring_problem(400, "validation-error", "UNSCHEDULED takes no due date")
            due = today.isoformat()
        elif kind == "RECURRING":
            due = str(data.get("due", ""))
            try:
                lead = (date.fromisoformat(due) - today).days
            except ValueError:
                raise _recurring_problem(400, "validation-error", "due is YYYY-MM-DD") from None
            if lead < 1:
                raise _recurring_problem(400, "charge-due-too-soon", "due is at least 1 day ahead")
            retry = data.get("retryDays", 0)
            if type(retry) is not int or not 0 <= retry <= 14:
                raise _recurring_problem(400, "validation-error", "retryDays is 0-14")
        else:
            raise _recurring_problem(400, "validation-error", "type is RECURRING or UNSCHEDULED")
        order_id = data.get("orderId")
        if order_id is None:
            order_id = "chr-" + secrets.token_urlsafe(8).replace("_", "y")
        if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
            raise _recurring_problem(400, "validation-error", "orderId is 1-50 of [a-zA-Z0-9-]")
        if order_id in merchant.charges:
            raise _recurring_problem(409, "conflict", "the orderId is already used")
        charge = Charge(
            order_id,
            agreement,
            amount,
            description,
            str(kind),
            str(data["transactionType"]),
            due,
            retry,
        )
        charge.history.append(self._history("CREATE", amount, headers.get("idempotency-key", "")))
        merchant.charges[order_id] = charge
        return ok({"chargeId": order_id}, 201)

    def _agreement_of(self, merchant: Merchant, agreement_id: str) -> Agreement:
        found = merchant.agreements.get(agreement_id)
        if found is None:
            raise _recurring_problem(404, "not-found", "no such agreement")
        return found

    def _agreement_in(self, agreement_id: str, status: str) -> Agreement:
        agreement = self.agreement(agreement_id)
        if agreement.status != status:
            raise SimulatorError(f"agreement {agreement_id} is {agreement.status}, not {status}")
        return agreement

    def _charges_of(self, agreement: Agreement) -> list[Charge]:
        return [
            c for m in self.merchants.values() for c in m.charges.values()
            if c.agreement is agreement
        ]  # fmt: skip

    def _history(
        self, event: str, amount: int, key: str, *, success: bool = True
    ) -> dict[str, Any]:
        return {
            "occurred": self._now_text(),
            "event": event,
            "amount": amount,
            "idempotencyKey": key,
            "success": success,
        }

    def _now_text(self) -> str:
        return self.clock().astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _emit_agreement(self, agreement: Agreement, name: str, actor: str) -> Delivery:
        payload: dict[str, Any] = {
            "agreementId": agreement.id,
            "agreementExternalId": agreement.external_id,
            "agreementUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, agreement.id)),
            "occurred": self._now_text(),
            "actor": actor,
        }
        return self._deliver_recurring(agreement, f"recurring.{name}.v1", payload)

    def _emit_charge(self, charge: Charge, name: str) -> Delivery:
        payload: dict[str, Any] = {
            "agreementId": charge.agreement.id,
            "agreementExternalId": charge.agreement.external_id,
            "chargeId": charge.id,
            "amount": charge.amount,
            "currency": charge.agreement.currency,
            "chargeType": charge.type,
            "occurred": self._now_text(),
        }
        if charge.failure_reason:
            payload["failureReason"] = charge.failure_reason
            payload["failureDescription"] = f"The charge failed: {charge.failure_reason}"
        return self._deliver_recurring(charge.agreement, f"recurring.{name}.v1", payload)

    def _deliver_recurring(
        self, agreement: Agreement, event_type: str, payload: dict[str, Any]
    ) -> Delivery:
        merchant = next(m for m in self.merchants.values() if agreement.id in m.agreements)
        body = json.dumps({**payload, "eventType": event_type, "msn": merchant.msn}).encode()
        last: Delivery | None = None
        for hook in merchant.webhooks.values():
            if event_type not in hook.events:
                continue
            headers = self.sign(body, self.clock(), hook.secret, hook.url)
            last = (body, headers)
            self.deliveries.append(last)
            record_webhook("mobilepay", event_type, body)
            if self.post_deliveries:
                self._post(hook.url, body, headers)
        return last if last is not None else (body, {})


def _recurring_problem(status: int, problem: str, detail: str) -> Problem:
    """The Recurring API's RFC 7807 problems are typed by a page anchor."""
    titles = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}
    return Problem(status, titles.get(status, "Error"), detail, problem)

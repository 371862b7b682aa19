"""The Recurring API (v3) endpoints of the Vipps MobilePay simulator: drafting, listing, reading
and stopping agreements, and creating charges on them (see simulator.py for the whole API)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, date
from typing import Any
from urllib.parse import parse_qsl, unquote

from justdriving.testing.mobilepay.agreements import RecurringSide
from justdriving.testing.mobilepay.merchants import Merchant
from justdriving.testing.mobilepay.recurring import (
    RECURRING_CURRENCIES,
    Agreement,
    Charge,
    recurring_problem,
)
from justdriving.testing.mobilepay.wire import Problem, json_body, ok
from justdriving.testing.wire import ApiReply

_COUNTRY = {"NOK": "NO", "DKK": "DK", "EUR": "FI"}
_KEY_V3 = re.compile(r"[^#?/\\]{1,40}")
_INTERVALS = frozenset({"YEAR", "MONTH", "WEEK", "DAY"})
_AGREEMENT = re.compile(r"/recurring/v3/agreements/([^/]+)")
_CHARGES = re.compile(r"/recurring/v3/agreements/([^/]+)/charges")
_CHARGE = re.compile(r"/recurring/v3/agreements/([^/]+)/charges/([^/]+)")
_ORDER_ID = re.compile(r"[a-zA-Z0-9-]{1,50}")
_PHONE = re.compile(r"[0-9]{10,15}")


class RecurringApi(RecurringSide):
    """The Recurring API's endpoints, for MobilePaySimulator."""

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
                raise recurring_problem(404, "not-found", "no such charge")
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
            raise recurring_problem(400, "validation-error", "pricing.currency: NOK, DKK or EUR")
        kind = pricing.get("type", "LEGACY")
        amount_field = "suggestedMaxAmount" if kind == "VARIABLE" else "amount"
        if kind not in ("LEGACY", "VARIABLE") or type(pricing.get(amount_field)) is not int:
            raise recurring_problem(400, "validation-error", f"pricing.{amount_field} is required")
        if pricing[amount_field] < 100:
            raise recurring_problem(400, "validation-error", f"pricing.{amount_field} >= 100")
        interval = data.get("interval")
        if (
            not isinstance(interval, dict)
            or interval.get("unit") not in _INTERVALS
            or type(interval.get("count")) is not int
            or not 1 <= interval["count"] <= 31
        ):
            raise recurring_problem(400, "validation-error", "interval: {unit, count 1-31}")
        for name in ("merchantRedirectUrl", "merchantAgreementUrl"):
            url = data.get(name)
            if not isinstance(url, str) or not url.startswith("https://"):
                raise recurring_problem(400, "validation-error", f"{name} is an https URL")
        product = data.get("productName")
        if not isinstance(product, str) or not 1 <= len(product) <= 45:
            raise recurring_problem(400, "validation-error", "productName is 1-45 characters")
        phone = data.get("phoneNumber")
        if phone is not None and (not isinstance(phone, str) or not _PHONE.fullmatch(phone)):
            raise recurring_problem(400, "validation-error", "phoneNumber is an MSISDN")
        external = data.get("externalId")
        if external is not None and not isinstance(external, str):
            raise recurring_problem(400, "validation-error", "externalId is a string")
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
            raise recurring_problem(400, "validation-error", "pageNumber, pageSize") from None
        if page < 1 or not 1 <= size <= 1000:
            raise recurring_problem(400, "validation-error", "pageNumber >= 1, pageSize 1-1000")
        matching = [a.view() for a in merchant.agreements.values() if a.status == status]
        return matching[(page - 1) * size : page * size]

    def _patch(self, agreement: Agreement, body: bytes) -> ApiReply:
        data = json_body(body)
        if data.get("status") not in (None, "STOPPED"):
            raise recurring_problem(400, "validation-error", "status can only become STOPPED")
        if data.get("status") == "STOPPED" and agreement.status in ("PENDING", "ACTIVE"):
            agreement.status, agreement.stop = "STOPPED", self._now_text()
            for charge in self._charges_of(agreement):
                if charge.status == "PENDING":
                    charge.status = "CANCELLED"
            self._emit_agreement(agreement, "agreement-stopped", "MERCHANT")
        elif data.get("status") == "STOPPED":
            raise recurring_problem(400, "illegal-agreement-update", "the agreement is not active")
        return ApiReply(204, b"", {})

    def _create_charge(
        self, merchant: Merchant, agreement: Agreement, body: bytes, headers: Mapping[str, str]
    ) -> ApiReply:
        data = json_body(body)
        if agreement.status != "ACTIVE":
            raise recurring_problem(400, "invalid-agreement-status", "the agreement is not ACTIVE")
        amount = data.get("amount")
        if type(amount) is not int or amount < 100:
            raise recurring_problem(400, "validation-error", "amount is at least 100 minor units")
        if data.get("transactionType") not in ("DIRECT_CAPTURE", "RESERVE_CAPTURE"):
            raise recurring_problem(400, "validation-error", "transactionType")
        description = data.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 45:
            raise recurring_problem(400, "validation-error", "description is 1-45 characters")
        kind = data.get("type", "RECURRING")
        retry = 0
        today = self.clock().astimezone(UTC).date()
        if kind == "UNSCHEDULED":
            if "due" in data or data.get("retryDays"):
                raise recurring_problem(400, "validation-error", "UNSCHEDULED takes no due date")
            due = today.isoformat()
        elif kind == "RECURRING":
            due = str(data.get("due", ""))
            try:
                lead = (date.fromisoformat(due) - today).days
            except ValueError:
                raise recurring_problem(400, "validation-error", "due is YYYY-MM-DD") from None
            if lead < 1:
                raise recurring_problem(400, "charge-due-too-soon", "due is at least 1 day ahead")
            retry = data.get("retryDays", 0)
            if type(retry) is not int or not 0 <= retry <= 14:
                raise recurring_problem(400, "validation-error", "retryDays is 0-14")
        else:
            raise recurring_problem(400, "validation-error", "type is RECURRING or UNSCHEDULED")
        order_id = data.get("orderId")
        if order_id is None:
            order_id = "chr-" + secrets.token_urlsafe(8).replace("_", "y")
        if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
            raise recurring_problem(400, "validation-error", "orderId is 1-50 of [a-zA-Z0-9-]")
        if order_id in merchant.charges:
            raise recurring_problem(409, "conflict", "the orderId is already used")
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
            raise recurring_problem(404, "not-found", "no such agreement")
        return found

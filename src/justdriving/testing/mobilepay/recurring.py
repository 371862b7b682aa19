"""The Recurring API's (v3) records in the Vipps MobilePay simulator: agreements and the charges
on them, as the API shows them, and the API's problems."""

from __future__ import annotations

import uuid
from typing import Any

from attrs import define, field

from justdriving.testing.mobilepay.wire import Problem

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


def recurring_problem(status: int, problem: str, detail: str) -> Problem:
    """The Recurring API's RFC 7807 problems are typed by a page anchor."""
    titles = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}
    return Problem(status, titles.get(status, "Error"), detail, problem)

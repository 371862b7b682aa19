"""A payment in the Vipps MobilePay simulator's ePayment API: its amounts as they move
(authorized, captured, cancelled, refunded) and how the API shows it."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from justdriving.testing.wire import Delivery


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

    def view(self) -> dict[str, Any]:
        """The payment as GET /epayment/v1/payments/{reference} shows it."""
        view: dict[str, Any] = {
            "aggregate": self.aggregate(),
            "amount": self.money(self.value),
            "state": self.state,
            "paymentMethod": {"type": "WALLET"},
            "profile": {},
            "pspReference": self.psp,
            "reference": self.reference,
        }
        if self.redirect_url:
            view["redirectUrl"] = self.redirect_url
        return view

    def adjustment(self, psp: str) -> dict[str, Any]:
        """The answer to a capture, cancel or refund, whose pspReference is `psp`."""
        return {
            "amount": self.money(self.value),
            "state": self.state,
            "aggregate": self.aggregate(),
            "pspReference": psp,
            "reference": self.reference,
        }

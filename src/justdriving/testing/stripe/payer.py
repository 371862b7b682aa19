"""The payer's and the card networks' side of a simulated Stripe account.

What happens in the browser, at the bank or at the card network: paying, 3-D Secure, declines,
bank debits settling, refunds landing or bouncing, disputes. Each action changes the account's
objects as Stripe would and returns the event Stripe sends for it. A reference is a
PaymentIntent id or a Checkout Session id; paying a Session creates its PaymentIntent, as
Stripe does when the payer confirms.
"""

from __future__ import annotations

from datetime import timedelta

from justdriving.testing.stripe.account import StripeAccount
from justdriving.testing.stripe.objects import (
    SimulatorError,
    StripeApiError,
    StripeObject,
    example,
    new_id,
    unexpected_state,
)

# Stripe's test payment methods (docs.stripe.com/testing) and what confirming with them does.
DECLINING_METHODS = {
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedLostCard": "lost_card",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
}
AUTHENTICATING_METHODS = frozenset(
    {"pm_card_authenticationRequired", "pm_card_threeDSecure2Required"}
)
_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_FINAL = ("succeeded", "canceled")


class PayerSide:
    def __init__(self, account: StripeAccount) -> None:
        self.account = account

    def succeed(self, ref: str, amount: int | None = None) -> StripeObject:
        session, intent = self._target(ref)
        self._pay(intent, amount, capture=True)
        if session is None:
            return self._last("payment_intent.succeeded")
        return self._complete(session, intent, "paid")

    def authorize(self, ref: str, amount: int | None = None) -> StripeObject:
        session, intent = self._target(ref)
        if intent["capture_method"] != "manual":
            raise SimulatorError(f"{intent['id']} captures automatically: nothing can be held")
        self._pay(intent, amount, capture=False)
        if session is None:
            return self._last("payment_intent.amount_capturable_updated")
        return self._complete(session, intent, "unpaid")

    def require_action(self, ref: str) -> StripeObject:
        _, intent = self._target(ref)
        self._open(intent)
        next_action = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
        intent.update(status="requires_action", next_action=next_action)
        return self.account.emit("payment_intent.requires_action", intent)

    def fail(
        self, ref: str, code: str = "card_declined", decline_code: str | None = None
    ) -> StripeObject:
        _, intent = self._target(ref)
        self._open(intent)
        error: StripeObject = {
            "type": "card_error",
            "code": code,
            "message": "Your card was declined.",
        }
        if decline_code:
            error["decline_code"] = decline_code
        intent.update(status="requires_payment_method", last_payment_error=error, next_action=None)
        return self.account.emit("payment_intent.payment_failed", intent)

    def process(self, ref: str) -> StripeObject:
        """A bank debit is on its way: the payment is processing (a Session completes unpaid)."""
        session, intent = self._target(ref)
        self._open(intent)
        intent.update(status="processing", next_action=None)
        processing = self.account.emit("payment_intent.processing", intent)
        return processing if session is None else self._complete(session, intent, "unpaid")

    def settle(self, ref: str, succeeded: bool = True) -> StripeObject:
        """A processing bank debit arrived, or bounced."""
        session, intent = self._target(ref)
        if intent["status"] != "processing":
            raise SimulatorError(f"{intent['id']} is {intent['status']}, not processing")
        if succeeded:
            self._pay(intent, None, capture=True)
        else:
            self.fail(intent["id"], "payment_intent_payment_attempt_failed")
        if session is None:
            kind = "succeeded" if succeeded else "payment_failed"
            return self._last(f"payment_intent.{kind}")
        if succeeded:
            session["payment_status"] = "paid"
        kind = "succeeded" if succeeded else "failed"
        return self.account.emit(f"checkout.session.async_payment_{kind}", session)

    def confirm(self, pi_id: str, payment_method: str | None) -> StripeObject:
        """The payer confirms with one of Stripe's test payment methods (API: /confirm)."""
        intent = self.account.payment_intent(pi_id)
        if intent["status"] not in _CONFIRMABLE:
            raise unexpected_state(intent, "confirmed", ", ".join(_CONFIRMABLE))
        method = payment_method or intent["payment_method"]
        if not method:
            raise StripeApiError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        intent["payment_method"] = method
        if method in DECLINING_METHODS:
            self.fail(pi_id, "card_declined", DECLINING_METHODS[method])
            raise StripeApiError(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code=DECLINING_METHODS[method],
            )
        if method in AUTHENTICATING_METHODS:
            self.require_action(pi_id)
        else:
            self._pay(intent, None, capture=intent["capture_method"] != "manual")
        return intent

    def complete_refund(self, re_id: str, succeeded: bool = True) -> StripeObject:
        """The refund reached the payer's bank, or came back (its amount is free again)."""
        refund = self.account.refund(re_id)
        if succeeded:
            if refund["status"] in ("failed", "canceled"):
                raise SimulatorError(f"{re_id} is {refund['status']} and cannot succeed")
            refund["status"] = "succeeded"
            return self.account.emit("refund.updated", refund)
        if refund["status"] not in ("failed", "canceled"):
            self.account.add_refunded(self.account.charges[refund["charge"]], -refund["amount"])
        refund.update(status="failed", failure_reason="expired_or_canceled_card")
        return self.account.emit("refund.failed", refund)

    def dispute(
        self, ref: str, *, status: str = "needs_response", reason: str = "fraudulent",
        amount: int | None = None,
    ) -> StripeObject:  # fmt: skip
        """The cardholder disputes the payment with their bank."""
        _, intent = self._target(ref)
        if intent["status"] != "succeeded":
            raise SimulatorError(f"{intent['id']} is {intent['status']}: nothing to dispute")
        charge = self.account.charges[intent["latest_charge"]]
        due = self.account.now() + int(timedelta(days=7).total_seconds())
        dispute = example(
            "dispute",
            id=new_id("dp"),
            amount=charge["amount_captured"] if amount is None else amount,
            charge=charge["id"],
            payment_intent=intent["id"],
            currency=intent["currency"],
            created=self.account.now(),
            reason=reason,
            status=status,
            is_charge_refundable=False,
        )
        dispute["evidence_details"]["due_by"] = due
        charge["disputed"] = True
        self.account.disputes[dispute["id"]] = dispute
        return self.account.emit("charge.dispute.created", dispute)

    def update_dispute(self, dp_id: str, status: str = "under_review") -> StripeObject:
        dispute = self._dispute(dp_id)
        dispute["status"] = status
        return self.account.emit("charge.dispute.updated", dispute)

    def close_dispute(self, dp_id: str, won: bool = False) -> StripeObject:
        dispute = self._dispute(dp_id)
        dispute["status"] = "won" if won else "lost"
        return self.account.emit("charge.dispute.closed", dispute)

    def expire(self, cs_id: str) -> StripeObject:
        """The Checkout page timed out (24 hours) without a payment."""
        self.account.expire_session(cs_id)
        return self._last("checkout.session.expired")

    # Mechanics.

    def _target(self, ref: str) -> tuple[StripeObject | None, StripeObject]:
        if not ref.startswith("cs_"):
            return None, self.account.payment_intent(ref)
        session = self.account.session(ref)
        if session["status"] != "open" and session["payment_intent"] is None:
            raise SimulatorError(f"{ref} is {session['status']}: the payer cannot pay any more")
        if session["payment_intent"] is None:
            session["payment_intent"] = self._intent_for(session)["id"]
        return session, self.account.payment_intent(session["payment_intent"])

    def _intent_for(self, session: StripeObject) -> StripeObject:
        data = session["_payment_intent_data"]
        params = {
            "amount": str(session["amount_total"]),
            "currency": session["currency"],
            "capture_method": data.get("capture_method") or "automatic",
            "description": data.get("description"),
            "metadata": data.get("metadata") or {},
            "receipt_email": data.get("receipt_email") or session["customer_email"],
            "application_fee_amount": data.get("application_fee_amount"),
        }
        return self.account.create_payment_intent(params)

    def _open(self, intent: StripeObject) -> None:
        if intent["status"] in _FINAL or intent["status"] == "requires_capture":
            raise SimulatorError(f"{intent['id']} is {intent['status']}: the payer is done")

    def _pay(self, intent: StripeObject, amount: int | None, *, capture: bool) -> None:
        self._open(intent)
        paid = intent["amount"] if amount is None else amount
        charge = example(
            "charge",
            id=new_id("ch"),
            amount=intent["amount"],
            amount_captured=paid if capture else 0,
            amount_refunded=0,
            captured=capture,
            created=self.account.now(),
            currency=intent["currency"],
            description=intent["description"],
            metadata=dict(intent["metadata"]),
            payment_intent=intent["id"],
            payment_method=intent["payment_method"] or new_id("pm"),
            receipt_url=None,
            balance_transaction=new_id("txn"),
        )
        charge["refunds"].update(data=[], url=f"/v1/charges/{charge['id']}/refunds")
        self.account.charges[charge["id"]] = charge
        intent.update(latest_charge=charge["id"], next_action=None, last_payment_error=None)
        if capture:
            intent.update(status="succeeded", amount_received=paid, amount_capturable=0)
        else:
            intent.update(status="requires_capture", amount_capturable=paid)
        self.account.emit("charge.succeeded", charge)
        kind = "succeeded" if capture else "amount_capturable_updated"
        self.account.emit(f"payment_intent.{kind}", intent)

    def _complete(
        self, session: StripeObject, intent: StripeObject, payment_status: str
    ) -> StripeObject:
        session.update(status="complete", payment_status=payment_status)
        if intent["status"] == "succeeded":
            session["amount_total"] = intent["amount_received"]
        elif intent["status"] == "requires_capture":
            session["amount_total"] = intent["amount_capturable"]
        return self.account.emit("checkout.session.completed", session)

    def _last(self, event_type: str) -> StripeObject:
        return next(e for e in reversed(self.account.events) if e["type"] == event_type)

    def _dispute(self, dp_id: str) -> StripeObject:
        dispute = self.account.disputes.get(dp_id)
        if dispute is None:
            raise SimulatorError(f"no dispute {dp_id}")
        return dispute

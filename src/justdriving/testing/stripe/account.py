"""One simulated Stripe account: its objects, the API calls that change them, and their events.

Money rules follow Stripe's (money.py): lower-case currencies; three-decimal amounts end in 0;
ISK in whole krónur (multiples of 100); captures up to the amount held; refunds up to what was
captured and not yet refunded (a failed refund frees its amount again). Every change records
the event Stripe would send, in `events`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

from justdriving.testing.stripe import money
from justdriving.testing.stripe.objects import (
    StripeObject,
    example,
    integer,
    invalid,
    metadata,
    new_id,
    not_found,
    unexpected_state,
)

_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
               "requires_action", "processing")  # fmt: skip


class StripeAccount:
    """The objects of one account, keyed by id, and the events their changes produced."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        api_version: str,
        refund_status: str,
        account_id: str | None = None,
    ) -> None:
        """`account_id`: a connected account's books (Stripe Connect); None: the platform's."""
        self.clock, self.api_version, self.refund_status = clock, api_version, refund_status
        self.account_id = account_id
        self.payment_intents: dict[str, StripeObject] = {}
        self.charges: dict[str, StripeObject] = {}
        self.refunds: dict[str, StripeObject] = {}
        self.sessions: dict[str, StripeObject] = {}
        self.customers: dict[str, StripeObject] = {}
        self.disputes: dict[str, StripeObject] = {}
        self.events: list[StripeObject] = []
        self.request: dict[str, str | None] = {"id": None, "idempotency_key": None}

    def now(self) -> int:
        return int(self.clock().timestamp())

    def emit(self, event_type: str, obj: StripeObject) -> StripeObject:
        """Record the event Stripe sends for `obj` now; its data is a snapshot."""
        event = example(
            "event",
            id=new_id("evt"),
            type=event_type,
            created=self.now(),
            api_version=self.api_version,
            data={"object": copy.deepcopy(public(obj))},
            pending_webhooks=1,
            request=dict(self.request),
        )
        if self.account_id is not None:  # Connect: the account the event happened on
            event["account"] = self.account_id
        self.events.append(event)
        return event

    # PaymentIntents.

    def create_payment_intent(self, params: StripeObject) -> StripeObject:
        if params.get("customer") is not None:  # this account's customer (Connect: not another's)
            self.customer(str(params["customer"]))
        amount, currency = money.amount(params, "amount"), money.currency(params)
        capture = money.capture_method(params)
        pi_id = new_id("pi")
        intent = example(
            "payment_intent",
            id=pi_id,
            amount=amount,
            currency=currency,
            capture_method=capture,
            client_secret=f"{pi_id}_secret_{new_id('x', 25)[2:]}",
            created=self.now(),
            canceled_at=None,
            description=params.get("description"),
            metadata=metadata(params),
            receipt_email=params.get("receipt_email"),
            automatic_payment_methods=money.automatic_methods(params),
            customer=params.get("customer"),
            application_fee_amount=money.application_fee(params, amount, self.account_id),
        )
        types = money.method_types(params, currency)
        if types is not None:
            intent["payment_method_types"] = types
        self.payment_intents[pi_id] = intent
        self.emit("payment_intent.created", intent)
        return intent

    def payment_intent(self, pi_id: str, param: str = "intent") -> StripeObject:
        intent = self.payment_intents.get(pi_id)
        if intent is None:
            raise not_found("payment_intent", pi_id, param)
        return intent

    def update_payment_intent(self, pi_id: str, params: StripeObject) -> StripeObject:
        intent = self.payment_intent(pi_id)
        if "capture_method" in params:
            if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
                raise unexpected_state(intent, "updated", "requires_payment_method")
            intent["capture_method"] = money.capture_method(params)
        if "metadata" in params:
            intent["metadata"] = {**intent["metadata"], **metadata(params)}
        for name in ("description", "receipt_email"):
            if name in params:
                intent[name] = params[name] or None
        return intent

    def capture(self, pi_id: str, params: StripeObject) -> StripeObject:
        intent = self.payment_intent(pi_id)
        if intent["status"] != "requires_capture":
            raise unexpected_state(intent, "captured", "requires_capture")
        amount = integer(params, "amount_to_capture", default=intent["amount_capturable"])
        if amount > intent["amount_capturable"]:
            raise invalid(
                "The amount_to_capture must be less than or equal to the amount_capturable.",
                param="amount_to_capture",
                code="amount_too_large",
            )
        charge = self.charges[intent["latest_charge"]]
        charge.update(amount_captured=amount, captured=True)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.emit("charge.captured", charge)
        self.emit("payment_intent.succeeded", intent)
        return intent

    def cancel(self, pi_id: str, params: StripeObject) -> StripeObject:
        intent = self.payment_intent(pi_id)
        if intent["status"] not in _CANCELABLE:
            raise unexpected_state(intent, "canceled", ", ".join(_CANCELABLE))
        if any(
            s["payment_intent"] == pi_id and s["status"] == "open" for s in self.sessions.values()
        ):
            raise invalid(
                "This PaymentIntent is managed by an open Checkout Session; expire the Session "
                "instead.",
                code="payment_intent_unexpected_state",
            )
        self.cancel_intent(intent, params.get("cancellation_reason") or "requested_by_customer")
        return intent

    def cancel_intent(self, intent: StripeObject, reason: str) -> None:
        intent.update(status="canceled", canceled_at=self.now(), cancellation_reason=reason)
        intent["amount_capturable"] = 0
        self.emit("payment_intent.canceled", intent)

    # Refunds.

    def create_refund(self, params: StripeObject) -> StripeObject:
        intent = self._refundable_intent(params)
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount_captured"] - charge["amount_refunded"]
        amount = integer(params, "amount", default=left)
        if amount > left:
            raise invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
                code="amount_too_large" if left else "charge_already_refunded",
            )
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise invalid(f"Invalid reason: {reason}", param="reason")
        refund = example(
            "refund",
            id=new_id("re"),
            amount=amount,
            charge=charge["id"],
            payment_intent=intent["id"],
            currency=intent["currency"],
            created=self.now(),
            metadata=metadata(params),
            reason=reason,
            status=self.refund_status,
        )
        self.refunds[refund["id"]] = refund
        self.add_refunded(charge, amount)
        charge["refunds"]["data"].insert(0, refund)
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

    def refund(self, re_id: str) -> StripeObject:
        refund = self.refunds.get(re_id)
        if refund is None:
            raise not_found("refund", re_id, "refund")
        return refund

    def add_refunded(self, charge: StripeObject, amount: int) -> None:
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]

    def _refundable_intent(self, params: StripeObject) -> StripeObject:
        if "payment_intent" in params:
            intent = self.payment_intent(str(params["payment_intent"]), "payment_intent")
        elif "charge" in params:
            charge = self.charges.get(str(params["charge"]))
            if charge is None:
                raise not_found("charge", str(params["charge"]), "charge")
            intent = self.payment_intent(charge["payment_intent"], "charge")
        else:
            raise invalid("One of the following params should be provided for this request: "
                          "payment_intent or charge.", code="parameter_missing")  # fmt: skip
        if intent["status"] != "succeeded":
            raise invalid(
                "This PaymentIntent does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
            )
        return intent

    # Checkout Sessions and customers.

    def create_session(self, params: StripeObject, base_url: str) -> StripeObject:
        if params.get("mode") != "payment":
            raise invalid("The simulator handles mode=payment only.", param="mode")
        if not params.get("success_url"):
            raise invalid("Missing required param: success_url.", param="success_url",
                          code="parameter_missing")  # fmt: skip
        lines = params.get("line_items")
        if not isinstance(lines, list) or not lines:
            raise invalid("Missing required param: line_items.", param="line_items")
        total, currency = money.line_total(lines)
        types = money.method_types(params, currency)
        session = example(
            "checkout_session",
            id=new_id("cs_test", 58),
            amount_subtotal=total,
            amount_total=total,
            currency=currency,
            cancel_url=params.get("cancel_url"),
            success_url=params["success_url"],
            client_reference_id=params.get("client_reference_id"),
            customer_email=params.get("customer_email"),
            customer_details=None,
            created=self.now(),
            expires_at=self.now() + int(timedelta(hours=24).total_seconds()),
            metadata=metadata(params),
            payment_intent=None,
            payment_status="unpaid",
            status="open",
        )
        if types is not None:
            session["payment_method_types"] = types
        session["url"] = f"https://checkout.stripe.com/c/pay/{session['id']}"
        # What the PaymentIntent will get when the payer confirms; Stripe keeps it internally.
        session["_payment_intent_data"] = params.get("payment_intent_data") or {}
        money.application_fee(session["_payment_intent_data"], total, self.account_id)
        self.sessions[session["id"]] = session
        return session

    def session(self, cs_id: str) -> StripeObject:
        session = self.sessions.get(cs_id)
        if session is None:
            raise not_found("checkout.session", cs_id, "session")
        return session

    def expire_session(self, cs_id: str) -> StripeObject:
        session = self.session(cs_id)
        if session["status"] != "open":
            raise unexpected_state(session, "expired", "open")
        session["status"] = "expired"
        intent = self.payment_intents.get(session["payment_intent"] or "")
        if intent is not None and intent["status"] in _CANCELABLE:
            self.cancel_intent(intent, "abandoned")
        self.emit("checkout.session.expired", session)
        return session

    def create_customer(self, params: StripeObject) -> StripeObject:
        customer = example(
            "customer",
            id=new_id("cus", 14),
            created=self.now(),
            email=params.get("email"),
            name=params.get("name"),
            description=params.get("description"),
            metadata=metadata(params),
            discount=None,  # the example's; a new customer has no coupon
        )
        self.customers[customer["id"]] = customer
        self.emit("customer.created", customer)
        return customer

    def customer(self, cus_id: str) -> StripeObject:
        customer = self.customers.get(cus_id)
        if customer is None:
            raise not_found("customer", cus_id, "customer")
        return customer


def public(obj: StripeObject) -> StripeObject:
    """What the API shows of `obj`: without the simulator's own bookkeeping keys."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}

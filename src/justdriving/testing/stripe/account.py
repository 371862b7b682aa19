"""One simulated Stripe account: its objects, the API calls that change them, and their events.

Money rules follow Stripe's: lower-case currencies; three-decimal amounts end in 0; ISK in whole
krónur (multiples of 100); captures up to the amount held; refunds up to what was captured and
not yet refunded (a failed refund frees its amount again). Every change records the event
Stripe would send, in `events`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

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

_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
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
        amount, currency = self._amount(params, "amount"), self._currency(params)
        capture = self._capture_method(params)
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
            automatic_payment_methods=_automatic_methods(params),
            customer=params.get("customer"),
            application_fee_amount=self._application_fee(params, amount),
        )
        types = _method_types(params, currency)
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
            intent["capture_method"] = self._capture_method(params)
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
        total, currency = self._line_total(lines)
        types = _method_types(params, currency)
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
        self._application_fee(session["_payment_intent_data"], total)
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

    # Money.

    def _application_fee(self, params: StripeObject, amount: int) -> int | None:
        """Stripe takes an application fee on a direct charge (made with Stripe-Account) only,
        and never above the amount."""
        if params.get("application_fee_amount") is None:
            return None
        if self.account_id is None:
            raise invalid(
                "Can only apply an application_fee_amount when the PaymentIntent is attempting "
                "a direct payment (using an OAuth key or Stripe-Account header) or destination "
                "payment (using `transfer_data[destination]`).",
                param="application_fee_amount",
            )
        fee = integer(params, "application_fee_amount")
        if fee > amount:
            raise invalid(
                "The application fee amount cannot be greater than the amount.",
                param="application_fee_amount",
            )
        return fee

    def _currency(self, params: StripeObject) -> str:
        currency = params.get("currency")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise invalid(f"Invalid currency: {currency}", param="currency")
        return currency.lower()

    def _capture_method(self, params: StripeObject) -> str:
        capture = params.get("capture_method") or "automatic"
        if capture not in ("automatic", "automatic_async", "manual"):
            raise invalid(f"Invalid capture_method: {capture}", param="capture_method")
        return str(capture)

    def _amount(self, params: StripeObject, name: str) -> int:
        amount, currency = integer(params, name), self._currency(params)
        if currency in _THREE_DECIMAL and amount % 10:
            raise invalid(
                f"Invalid amount: {currency.upper()} amounts must end in 0.",
                param=name,
                code="invalid_charge_amount",
            )
        if currency == "isk" and amount % 100:
            raise invalid(
                "Invalid amount. Currency ISK has become effectively zero-decimal and charged "
                "amounts must be evenly divisible by 100.",
                param=name,
                code="invalid_charge_amount_no_decimal_compatible",
            )
        return amount

    def _line_total(self, lines: list[Any]) -> tuple[int, str]:
        total, currencies = 0, set()
        for line in lines:
            price = line.get("price_data") if isinstance(line, dict) else None
            if not isinstance(price, dict):
                raise invalid("Each line item needs price_data.", param="line_items")
            quantity = integer(line, "quantity", default=1)
            total += self._amount(price, "unit_amount") * quantity
            currencies.add(self._currency(price))
        if len(currencies) != 1:
            raise invalid("All line items must have the same currency.", param="line_items")
        return total, currencies.pop()


# The payment method types the simulator knows, and the currencies Stripe presents each in
# (docs.stripe.com/payments/mobilepay: DKK, EUR, NOK, SEK); None: any currency.
METHOD_CURRENCIES: dict[str, frozenset[str] | None] = {
    "card": None,
    "mobilepay": frozenset({"dkk", "eur", "nok", "sek"}),
}


def _method_types(params: StripeObject, currency: str) -> list[str] | None:
    """`allowed_payment_method_types[]` as API version 2026-10-28.endive reads it (added in
    2026-07-29.dahlia): known types, filtered silently to those that work in the currency, never
    with automatic_payment_methods. `payment_method_types` is no longer writable since
    2026-09-30.endive (Stripe's changelog) and is refused with its error code."""
    if params.get("payment_method_types") is not None:
        raise invalid(
            "payment_method_types is no longer supported; use allowed_payment_method_types.",
            param="payment_method_types",
            code="payment_method_types_no_longer_supported",
        )
    types = params.get("allowed_payment_method_types")
    if types is None:
        return None
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise invalid("Invalid array", param="allowed_payment_method_types")
    if params.get("automatic_payment_methods") is not None:
        raise invalid(
            "You may only specify one of these parameters: allowed_payment_method_types, "
            "automatic_payment_methods.",
            param="allowed_payment_method_types",
        )
    unknown = [kind for kind in types if kind not in METHOD_CURRENCIES]
    if unknown:
        raise invalid(
            f"The payment method type provided: {unknown[0]} is invalid.",
            param="allowed_payment_method_types",
        )
    compatible = [
        kind
        for kind in types
        if METHOD_CURRENCIES[kind] is None or currency in (METHOD_CURRENCIES[kind] or ())
    ]
    if not compatible:
        raise invalid(
            f"None of the allowed payment method types can be used with {currency}.",
            param="allowed_payment_method_types",
        )
    return compatible


def _automatic_methods(params: StripeObject) -> StripeObject | None:
    setting = params.get("automatic_payment_methods")
    if not isinstance(setting, dict):
        return None
    return {"enabled": setting.get("enabled") == "true", "allow_redirects": "always"}


def public(obj: StripeObject) -> StripeObject:
    """What the API shows of `obj`: without the simulator's own bookkeeping keys."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}

"""Cards on file in a simulated Stripe account: SetupIntents, a customer's PaymentMethods, and
PaymentIntents confirmed off session with a saved card.

The student saves one of Stripe's test payment methods (docs.stripe.com/testing), and it
behaves as the real one does: `pm_card_visa` saves and charges; with
`pm_card_authenticationRequiredOnSetup` the bank asks for 3-D Secure when the card is saved
only; with `pm_card_authenticationRequired` it asks every time, so an off-session charge fails
with `authentication_required` and the PaymentIntent waits for a payment method.
`decline_next_charge` makes the issuer decline the card's next charge with a decline code
(funds run out between two months). An off-session failure is a 402 `card_error` whose
`payment_intent` is the PaymentIntent made, as Stripe answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.testing.stripe.objects import (
    SimulatorError,
    StripeApiError,
    StripeObject,
    example,
    invalid,
    metadata,
    new_id,
    not_found,
    unexpected_state,
)

if TYPE_CHECKING:
    from justdriving.testing.stripe.account import StripeAccount
    from justdriving.testing.stripe.payer import PayerSide

# Test payment method: (brand, last4, 3-D Secure when saved, 3-D Secure off session).
TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", False, False),
    "pm_card_mastercard": ("mastercard", "4444", False, False),
    "pm_card_authenticationRequiredOnSetup": ("visa", "3155", True, False),
    "pm_card_authenticationRequired": ("visa", "3184", True, True),
}
EXPIRY = (12, 2034)
_THREE_D_SECURE = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}


class StripeWallet:
    """The account's SetupIntents and PaymentMethods, and the student's side of saving one."""

    def __init__(self, account: StripeAccount) -> None:
        self.account = account
        self.setup_intents: dict[str, StripeObject] = {}
        self.payment_methods: dict[str, StripeObject] = {}
        self._test_card: dict[str, str] = {}  # pm id -> the test payment method it came from
        self._declines: dict[str, list[str]] = {}

    # API operations.

    def create_setup_intent(self, params: StripeObject) -> StripeObject:
        customer = params.get("customer")
        if customer is not None:
            self.account.customer(str(customer))
        usage = params.get("usage") or "off_session"
        if usage not in ("off_session", "on_session"):
            raise invalid(f"Invalid usage: {usage}", param="usage")
        seti_id = new_id("seti")
        automatic = params.get("automatic_payment_methods")
        setup = example(
            "setup_intent",
            id=seti_id,
            client_secret=f"{seti_id}_secret_{new_id('x', 25)[2:]}",
            created=self.account.now(),
            customer=customer,
            description=params.get("description"),
            metadata=metadata(params),
            usage=usage,
            status="requires_payment_method",
            last_setup_error=None,
            next_action=None,
            payment_method=None,
            payment_method_configuration_details=None,
            automatic_payment_methods=(
                {"enabled": True, "allow_redirects": "always"}
                if isinstance(automatic, dict) and automatic.get("enabled") == "true"
                else None
            ),
        )
        self.setup_intents[seti_id] = setup
        self.account.emit("setup_intent.created", setup)
        return setup

    def setup_intent(self, seti_id: str) -> StripeObject:
        setup = self.setup_intents.get(seti_id)
        if setup is None:
            raise not_found("setup_intent", seti_id, "intent")
        return setup

    def customer_methods(self, cus_id: str) -> StripeObject:
        self.account.customer(cus_id)
        held = [pm for pm in self.payment_methods.values() if pm["customer"] == cus_id]
        held.sort(key=lambda pm: pm["created"], reverse=True)
        return {
            "object": "list",
            "data": held,
            "has_more": False,
            "url": f"/v1/customers/{cus_id}/payment_methods",
        }

    def payment_method(self, pm_id: str) -> StripeObject:
        method = self.payment_methods.get(pm_id)
        if method is None:
            raise not_found("PaymentMethod", pm_id, "payment_method")
        return method

    def detach(self, pm_id: str) -> StripeObject:
        method = self.payment_method(pm_id)
        if method["customer"] is None:
            raise invalid(
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible.",
                code="payment_method_unexpected_state",
            )
        method["customer"] = None
        self.account.emit("payment_method.detached", method)
        return method

    def holds(self, pm_id: object) -> bool:
        return isinstance(pm_id, str) and pm_id in self.payment_methods

    def charge(self, payer: PayerSide, intent: StripeObject, params: StripeObject) -> StripeObject:
        """Confirm `intent` with a saved card, off session when the request says so."""
        method = self.payment_method(str(params["payment_method"]))
        if method["customer"] is None or method["customer"] != params.get("customer"):
            raise invalid(
                "The provided PaymentMethod does not belong to the Customer.",
                param="payment_method",
                code="resource_missing",
            )
        intent["payment_method"] = method["id"]
        declines = self._declines.get(method["id"]) or []
        off_session = params.get("off_session") == "true"
        if declines:
            code = declines.pop(0)
            self._refuse(payer, intent, "card_declined", code, "Your card was declined.")
        if off_session and TEST_CARDS[self._test_card[method["id"]]][3]:
            message = "Your card was declined. This transaction requires authentication."
            self._refuse(
                payer, intent, "authentication_required", "authentication_required", message
            )
        payer.succeed(intent["id"])
        return intent

    # The student's and the issuer's side.

    def complete_setup(self, seti_id: str, card: str = "pm_card_visa") -> StripeObject:
        """The student confirms the SetupIntent with test payment method `card`."""
        setup = self.setup_intent(seti_id)
        if setup["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise unexpected_state(setup, "confirmed", "requires_payment_method")
        if card not in TEST_CARDS:
            raise SimulatorError(f"no test payment method {card}")
        method = self._new_method(card)
        setup["payment_method"] = method["id"]
        if TEST_CARDS[card][2]:
            setup.update(status="requires_action", next_action=_THREE_D_SECURE)
            return self.account.emit("setup_intent.requires_action", setup)
        return self._succeed(setup)

    def authenticate_setup(self, seti_id: str) -> StripeObject:
        setup = self.setup_intent(seti_id)
        if setup["status"] != "requires_action":
            raise SimulatorError(f"{seti_id} is {setup['status']}, not waiting for 3-D Secure")
        return self._succeed(setup)

    def fail_setup(self, seti_id: str, decline_code: str = "generic_decline") -> StripeObject:
        setup = self.setup_intent(seti_id)
        error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code,
                 "message": "Your card was declined."}  # fmt: skip
        setup.update(
            status="requires_payment_method",
            last_setup_error=error,
            next_action=None,
            payment_method=None,
        )
        return self.account.emit("setup_intent.setup_failed", setup)

    def decline_next_charge(self, pm_id: str, decline_code: str) -> None:
        self.payment_method(pm_id)
        self._declines.setdefault(pm_id, []).append(decline_code)

    # Mechanics.

    def _succeed(self, setup: StripeObject) -> StripeObject:
        method = self.payment_methods[setup["payment_method"]]
        method["customer"] = setup["customer"]
        if setup["customer"] is not None:
            self.account.emit("payment_method.attached", method)
        setup.update(status="succeeded", next_action=None, last_setup_error=None)
        return self.account.emit("setup_intent.succeeded", setup)

    def _new_method(self, card: str) -> StripeObject:
        brand, last4, _, _ = TEST_CARDS[card]
        template = example("payment_method")
        details = template["card"]
        details.update(
            brand=brand,
            display_brand=brand,
            last4=last4,
            exp_month=EXPIRY[0],
            exp_year=EXPIRY[1],
            fingerprint=new_id("fp", 14)[3:],
            generated_from=None,
            wallet=None,
        )
        details["networks"] = {"available": [brand], "preferred": None}
        method = example(
            "payment_method",
            id=new_id("pm"),
            created=self.account.now(),
            customer=None,
            metadata={},
            card=details,
            billing_details={
                "address": {key: None for key in template["billing_details"]["address"]},
                "email": None,
                "name": None,
                "phone": None,
                "tax_id": None,
            },
        )
        self.payment_methods[method["id"]] = method
        self._test_card[method["id"]] = card
        return method

    def _refuse(
        self, payer: PayerSide, intent: StripeObject, code: str, decline_code: str, message: str
    ) -> None:
        payer.fail(intent["id"], code, decline_code)
        raise StripeApiError(
            402,
            message,
            type="card_error",
            code=code,
            decline_code=decline_code,
            payment_intent=intent,
        )

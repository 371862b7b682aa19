"""The fake gateway's cards on file: customers, card setups, saved cards and charges to them.

Cards are named as Stripe's test payment methods are (`pm_card_visa`,
`pm_card_authenticationRequired` …, see CARDS), so that one test drives the fake and the
Stripe simulator alike; `decline_next_charge` makes the bank decline the next charge to a card
with a given code, as funds run out between one month and the next.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define, field, frozen

from justdriving.adapters.memory.charges import FakeCharge
from justdriving.adapters.memory.fake_webhooks import WebhookDelivery
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind
from justdriving.domain.payments import CaptureMode, PaymentStatus
from justdriving.domain.saved_methods import SavedMethod
from justdriving.ports.clock import Clock
from justdriving.ports.payments import (
    ChargeResult,
    ChargeStatus,
    CustomerRequest,
    SavedChargeRequest,
    SetupRequest,
    SetupSession,
)

R = TypeVar("R")


@frozen
class TestCard:
    """How a test card behaves: shown as brand and last 4; whether the bank asks for 3-D Secure
    when it is saved and when it is charged without the student."""

    brand: str
    last4: str
    authenticate_on_setup: bool = False
    authenticate_off_session: bool = False


CARDS: Mapping[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_authenticationRequiredOnSetup": TestCard("visa", "3155", True),
    "pm_card_authenticationRequired": TestCard("visa", "3184", True, True),
}
EXPIRY = (12, 2034)  # the test cards' expiry


@define
class FakeSetup:
    provider_setup_id: str
    customer_id: str
    provider_customer_id: str
    status: str = "requires_payment_method"
    card: str | None = None
    provider_method_id: str | None = None


@define
class FakeSavedCard:
    method: SavedMethod
    provider_customer_id: str
    card: TestCard
    declines: list[str] = field(factory=list)  # codes for the next charges, in order


class FakeCardsOnFile:
    """Mixed into FakePaymentGateway: the cards-on-file verbs and the student's side of them."""

    name: str
    clock: Clock
    charges: dict[str, FakeCharge]
    _lock: threading.RLock
    _check_fee: Callable[[Money | None, Money], None]  # FakeConnect's

    def _init_cards(self) -> None:
        self.customers: dict[str, dict[str, str]] = {}
        self.setups: dict[str, FakeSetup] = {}
        self.saved_cards: dict[str, FakeSavedCard] = {}

    # The port.

    def create_customer(self, request: CustomerRequest) -> str:
        return self._once(
            "customer", request.idempotency_key, request, lambda: self._customer(request)
        )

    def start_setup(self, request: SetupRequest) -> SetupSession:
        return self._once("setup", request.idempotency_key, request, lambda: self._setup(request))

    def saved_methods(self, provider_customer_id: str) -> list[SavedMethod]:
        self._customer_of(provider_customer_id)
        held = [
            c for c in self.saved_cards.values() if c.provider_customer_id == provider_customer_id
        ]
        return [card.method for card in reversed(held)]

    def remove_method(
        self, provider_customer_id: str, provider_method_id: str, idempotency_key: str
    ) -> None:
        args = (provider_customer_id, provider_method_id)
        self._once("remove", idempotency_key, args, lambda: self._remove(*args))

    def charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        return self._once(
            "charge", request.idempotency_key, request, lambda: self._charge_saved(request)
        )

    # The student's and the bank's side.

    def complete_setup(self, provider_setup_id: str, card: str = "pm_card_visa") -> WebhookDelivery:
        """The student entered `card`: saved, or (a card whose bank asks) waiting for 3-D Secure."""
        setup = self._setup_of(provider_setup_id)
        test_card = CARDS.get(card)
        if test_card is None:
            raise ProviderRejected(
                self.name, f"no test card {card}", provider_code="resource_missing"
            )
        setup.card = card
        if test_card.authenticate_on_setup:
            setup.status = "requires_action"
            return self._setup_event(PaymentEventKind.SETUP_REQUIRES_ACTION, setup)
        return self._save(setup, test_card)

    def authenticate_setup(self, provider_setup_id: str) -> WebhookDelivery:
        """The student passed 3-D Secure: the card is saved."""
        setup = self._setup_of(provider_setup_id)
        if setup.status != "requires_action" or setup.card is None:
            raise ProviderRejected(
                self.name, f"setup is {setup.status}", provider_code="setup_intent_unexpected_state"
            )
        return self._save(setup, CARDS[setup.card])

    def fail_setup(self, provider_setup_id: str, code: str = "card_declined") -> WebhookDelivery:
        setup = self._setup_of(provider_setup_id)
        setup.status = "requires_payment_method"
        return self._setup_event(PaymentEventKind.SETUP_FAILED, setup, failure_code=code)

    def decline_next_charge(self, provider_method_id: str, code: str) -> None:
        self._card_of(provider_method_id).declines.append(code)

    # Mechanics.

    if TYPE_CHECKING:  # FakePaymentGateway's own

        def _once(self, operation: str, key: str, args: object, work: Callable[[], R]) -> R: ...

        def webhook(self, event_type: str, data: Mapping[str, Any]) -> WebhookDelivery: ...

    def _customer(self, request: CustomerRequest) -> str:
        ref = f"fake_cus_{uuid.uuid4().hex[:14]}"
        self.customers[ref] = {
            "customer_id": request.customer_id,
            "school_id": request.school_id,
            "student_id": request.student_id,
        }
        return ref

    def _setup(self, request: SetupRequest) -> SetupSession:
        self._customer_of(request.provider_customer_id)
        ref = f"fake_seti_{uuid.uuid4().hex[:24]}"
        self.setups[ref] = FakeSetup(ref, request.customer_id, request.provider_customer_id)
        return SetupSession(
            self.name,
            ref,
            client_secret=f"{ref}_secret_{secrets.token_hex(12)}",
            redirect_url=f"/dev/setup/{ref}",
        )

    def _save(self, setup: FakeSetup, card: TestCard) -> WebhookDelivery:
        ref = f"fake_pm_{uuid.uuid4().hex[:24]}"
        method = SavedMethod(ref, card.brand, card.last4, *EXPIRY)
        self.saved_cards[ref] = FakeSavedCard(method, setup.provider_customer_id, card)
        setup.status, setup.provider_method_id = "succeeded", ref
        return self._setup_event(PaymentEventKind.SETUP_SUCCEEDED, setup)

    def _remove(self, provider_customer_id: str, provider_method_id: str) -> None:
        card = self._card_of(provider_method_id)
        if card.provider_customer_id != provider_customer_id:
            raise ProviderRejected(
                self.name, "the customer holds no such method", provider_code="resource_missing"
            )
        del self.saved_cards[provider_method_id]

    def _charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        card = self.saved_cards.get(request.provider_method_id)
        if card is None or card.provider_customer_id != request.provider_customer_id:
            raise ProviderRejected(
                self.name, "the customer holds no such method", provider_code="resource_missing"
            )
        if not request.amount.is_positive:
            raise ProviderRejected(self.name, "amount must be positive", provider_code="amount")
        self._check_fee(request.application_fee, request.amount)
        ref = f"fake_pi_{uuid.uuid4().hex[:24]}"
        metadata = {
            **request.metadata,
            "payment_id": request.payment_id,
            "school_id": request.school_id,
        }
        charge = FakeCharge(
            ref,
            request.payment_id,
            request.amount,
            CaptureMode.AUTOMATIC,
            metadata,
            application_fee=request.application_fee,
        )
        self.charges[ref] = charge
        secret = f"{ref}_secret_{secrets.token_hex(12)}"
        if card.declines:
            charge.status = PaymentStatus.FAILED
            code = card.declines.pop(0)
            return ChargeResult(
                self.name, ref, ChargeStatus.DECLINED, decline_code=code, client_secret=secret
            )
        if card.card.authenticate_off_session:
            charge.status = PaymentStatus.REQUIRES_ACTION
            return ChargeResult(
                self.name, ref, ChargeStatus.REQUIRES_ACTION,
                decline_code="authentication_required", client_secret=secret,
            )  # fmt: skip
        charge.status, charge.captured = PaymentStatus.SUCCEEDED, request.amount
        return ChargeResult(self.name, ref, ChargeStatus.SUCCEEDED, amount=request.amount)

    def _setup_event(
        self, kind: PaymentEventKind, setup: FakeSetup, failure_code: str | None = None
    ) -> WebhookDelivery:
        data: dict[str, Any] = {
            "customer_id": setup.customer_id,
            "provider_setup_id": setup.provider_setup_id,
        }
        if setup.provider_method_id is not None:
            data["provider_method_id"] = setup.provider_method_id
        if failure_code is not None:
            data["failure_code"] = failure_code
        return self.webhook(kind.value, data)

    def _customer_of(self, provider_customer_id: str) -> dict[str, str]:
        customer = self.customers.get(provider_customer_id)
        if customer is None:
            raise ProviderRejected(
                self.name, f"no customer {provider_customer_id}", provider_code="resource_missing"
            )
        return customer

    def _setup_of(self, provider_setup_id: str) -> FakeSetup:
        setup = self.setups.get(provider_setup_id)
        if setup is None:
            raise ProviderRejected(
                self.name, f"no setup {provider_setup_id}", provider_code="resource_missing"
            )
        return setup

    def _card_of(self, provider_method_id: str) -> FakeSavedCard:
        card = self.saved_cards.get(provider_method_id)
        if card is None:
            raise ProviderRejected(
                self.name, f"no method {provider_method_id}", provider_code="resource_missing"
            )
        return card

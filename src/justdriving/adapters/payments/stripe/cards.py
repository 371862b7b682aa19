"""Stripe's cards on file behind the PaymentGateway port: Customers, SetupIntents
(`usage=off_session`), a customer's card PaymentMethods, and off-session PaymentIntents.

A charge the bank wants the student to authenticate comes back from Stripe as a 402 card error
with code `authentication_required` and the PaymentIntent it made (now waiting for a payment
method): it is a result, REQUIRES_ACTION, whose client secret lets the student finish it. Any
other card error is a DECLINED result with Stripe's decline code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

from justdriving.adapters.payments.stripe.errors import translate
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.money import Money
from justdriving.domain.saved_methods import SavedMethod
from justdriving.ports.payments import (
    ChargeResult,
    ChargeStatus,
    CustomerRequest,
    SavedChargeRequest,
    SetupRequest,
    SetupSession,
)

T = TypeVar("T")
MAX_IDEMPOTENCY_KEY = 255
AUTHENTICATION_REQUIRED = "authentication_required"
_LISTED = 100  # Stripe's largest page; a student has a handful of cards


class StripeCardsOnFile:
    """Mixed into StripeGateway, which gives the client, the error translation and amounts."""

    name: str
    _client: stripe.StripeClient
    account: str | None = None  # the connected account acted on (Stripe-Account), if any

    def _options(self, idempotency_key: str | None = None) -> stripe.RequestOptions:
        """Per-request options: the idempotency key, and the connected account acted on."""
        options = idempotency_options(idempotency_key) if idempotency_key else {}
        if self.account is not None:
            options["stripe_account"] = self.account
        return options

    def _call(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except stripe.StripeError as error:
            raise translate(error, self.name) from error

    if TYPE_CHECKING:  # StripeGateway's own

        def _amount(self, money: Money) -> tuple[int, str]: ...

    def create_customer(self, request: CustomerRequest) -> str:
        params: stripe.params.CustomerCreateParams = {
            "metadata": {
                "customer_id": request.customer_id,
                "school_id": request.school_id,
                "student_id": request.student_id,
            }
        }
        if request.name:
            params["name"] = request.name
        options = self._options(request.idempotency_key)
        customer = self._call(lambda: self._client.v1.customers.create(params, options))
        return customer.id

    def start_setup(self, request: SetupRequest) -> SetupSession:
        params: stripe.params.SetupIntentCreateParams = {
            "customer": request.provider_customer_id,
            "usage": "off_session",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"customer_id": request.customer_id, "school_id": request.school_id},
        }
        options = self._options(request.idempotency_key)
        setup = self._call(lambda: self._client.v1.setup_intents.create(params, options))
        return SetupSession(self.name, setup.id, client_secret=setup.client_secret)

    def saved_methods(self, provider_customer_id: str) -> list[SavedMethod]:
        methods = self._client.v1.customers.payment_methods
        listed = self._call(
            lambda: methods.list(
                provider_customer_id, {"type": "card", "limit": _LISTED}, self._options()
            )
        )
        return [m for m in (_shown(method) for method in listed.data) if m is not None]

    def remove_method(
        self, provider_customer_id: str, provider_method_id: str, idempotency_key: str
    ) -> None:
        methods = self._client.v1.payment_methods
        method = self._call(lambda: methods.retrieve(provider_method_id, None, self._options()))
        owner = method.customer if isinstance(method.customer, str | None) else method.customer.id
        if owner is None:
            return  # detached before (a retry)
        if owner != provider_customer_id:
            raise ProviderRejected(
                self.name, "the customer holds no such method", provider_code="resource_missing"
            )
        options = self._options(idempotency_key)
        self._call(lambda: methods.detach(provider_method_id, None, options))

    def charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        amount, currency = self._amount(request.amount)
        metadata = {**request.metadata, "payment_id": request.payment_id}
        metadata["school_id"] = request.school_id
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency,
            "customer": request.provider_customer_id,
            "payment_method": request.provider_method_id,
            "off_session": True,
            "confirm": True,
            "description": request.description,
            "metadata": metadata,
        }
        if request.application_fee is not None and request.application_fee.is_positive:
            params["application_fee_amount"] = self._amount(request.application_fee)[0]
        options = self._options(request.idempotency_key)
        try:
            intent = self._client.v1.payment_intents.create(params, options)
        except stripe.CardError as error:
            return self._refused(error)
        except stripe.StripeError as error:
            raise translate(error, self.name) from error
        status = ChargeStatus.SUCCEEDED if intent.status == "succeeded" else ChargeStatus.PROCESSING
        taken = request.amount if status is ChargeStatus.SUCCEEDED else None
        return ChargeResult(self.name, intent.id, status, amount=taken)

    def _refused(self, error: stripe.CardError) -> ChargeResult:
        details = error.error
        intent: Any = details.payment_intent if details is not None else None
        if intent is None:  # a card error without its payment: nothing to finish later
            raise ProviderRejected(self.name, str(error.user_message), provider_code=error.code)
        code = (details.decline_code if details else None) or error.code
        if error.code == AUTHENTICATION_REQUIRED:
            return ChargeResult(
                self.name,
                intent.id,
                ChargeStatus.REQUIRES_ACTION,
                decline_code=AUTHENTICATION_REQUIRED,
                client_secret=intent.client_secret,
            )
        return ChargeResult(self.name, intent.id, ChargeStatus.DECLINED, decline_code=code)


def _shown(method: stripe.PaymentMethod) -> SavedMethod | None:
    card = method.card
    if card is None:
        return None
    return SavedMethod(method.id, card.brand, card.last4, card.exp_month, card.exp_year)


def idempotency_options(idempotency_key: str) -> stripe.RequestOptions:
    """Per-request options; a key longer than Stripe's 255 characters is hashed, stably."""
    key = idempotency_key
    if len(key) > MAX_IDEMPOTENCY_KEY:
        key = "sha256-" + hashlib.sha256(key.encode()).hexdigest()
    return {"idempotency_key": key}

"""Vipps MobilePay's Recurring API (v3) behind the port's cards-on-file verbs.

MobilePay keeps no card for a merchant: the student approves a payment *agreement* in the app
(with strong customer authentication there), and the merchant then creates charges on it that
the student does not approve again. How the verbs land:

- create_customer: Recurring has no customer object. The provider's customer id is made from
  ours (`mpc-…`, the same every time, no call) and goes into each agreement's `externalId`,
  which the agreement's webhooks carry back (`agreementExternalId`).
- start_setup: `POST /recurring/v3/agreements` (Idempotency-Key) with VARIABLE pricing (the
  student picks the most a charge may take per interval, at least `suggestedMaxAmount`), a
  monthly interval, `merchantRedirectUrl` and `merchantAgreementUrl` (both the return URL: the
  school's page for the student's payment methods). Its `vippsConfirmationUrl` is the redirect;
  the agreement is PENDING until the student approves (ACTIVE: recurring.agreement-activated.v1
  → SETUP_SUCCEEDED) or rejects it, or lets it lapse (SETUP_FAILED).
- saved_methods: the customer's ACTIVE agreements (`GET /recurring/v3/agreements?status=ACTIVE`,
  paged, filtered by `externalId`), shown as brand "mobilepay" with no digits and no expiry.
- remove_method: `PATCH /recurring/v3/agreements/{agreementId}` `{"status": "STOPPED"}`; an
  agreement already STOPPED or EXPIRED needs nothing (a retry).
- charge_saved: `POST /recurring/v3/agreements/{agreementId}/charges` (Idempotency-Key) of
  type UNSCHEDULED and DIRECT_CAPTURE, whose `orderId` (which becomes the `chargeId`) carries
  our payment id as an ePayment reference does. Unlike a card, the answer is never the
  outcome: Vipps MobilePay processes the charge "as early as possible" and says how it went by
  webhook (recurring.charge-captured.v1 → SUCCEEDED, recurring.charge-failed.v1 → FAILED with
  its `failureReason`), so the result is always PROCESSING. An UNSCHEDULED charge is not
  retried by Vipps MobilePay; our retry ladder decides. RECURRING charges (a due date at least
  a day ahead, retries by Vipps MobilePay over `retryDays`) are not used: the port charges now.
  No charge ever waits for the student (there is no REQUIRES_ACTION): a card that needs the
  student fails with `user_action_required`, which the student fixes in the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from justdriving.adapters.payments.mobilepay import reference as refs
from justdriving.domain.errors import MalformedWebhook, ProviderRejected, ProviderUnavailable
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

if TYPE_CHECKING:
    from justdriving.adapters.payments.mobilepay.api import MobilePayApi

AGREEMENTS = "/recurring/v3/agreements"
CUSTOMER_PREFIX = "mpc-"
BRAND = "mobilepay"
PAGE_SIZE = 1000
MAX_KEY = 40
MAX_CHARGE_DESCRIPTION = 45
MAX_PRODUCT_NAME = 45
_AGREEMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GONE = frozenset({"STOPPED", "EXPIRED"})
RECURRING_CURRENCIES = frozenset({"NOK", "DKK", "EUR"})


def recurring_key(key: str, step: str) -> str:
    """The Recurring API's Idempotency-Key (1 to 40 characters, no '#', '?', '/' or '\\'):
    stable for our key and the step."""
    return f"{step}-{refs.digest(key, MAX_KEY - len(step) - 1)}"


def customer_reference(customer_id: str, provider: str) -> str:
    return CUSTOMER_PREFIX + refs.encode(customer_id, provider)


def customer_of(external_id: str | None) -> str | None:
    """Our customer id from an agreement's externalId we made; None for anyone else's."""
    if not external_id or not external_id.startswith(CUSTOMER_PREFIX):
        return None
    try:
        return refs.decode(external_id.removeprefix(CUSTOMER_PREFIX))
    except ValueError:
        return None


class MobilePayRecurring:
    """Mixed into MobilePayGateway, which gives the API client and the name."""

    name: str
    _api: MobilePayApi
    agreement_currency: str
    agreement_max_amount: int
    product_name: str

    def create_customer(self, request: CustomerRequest) -> str:
        return customer_reference(request.customer_id, self.name)

    def start_setup(self, request: SetupRequest) -> SetupSession:
        if not request.return_url:
            raise ProviderRejected(
                self.name,
                "a MobilePay agreement needs the URL the student returns to",
                provider_code="no_return_url",
            )
        body = {
            "pricing": {
                "type": "VARIABLE",
                "currency": self.agreement_currency,
                "suggestedMaxAmount": self.agreement_max_amount,
            },
            "interval": {"unit": "MONTH", "count": 1},
            "merchantRedirectUrl": request.return_url,
            "merchantAgreementUrl": request.return_url,
            "productName": self.product_name[:MAX_PRODUCT_NAME],
            "externalId": request.provider_customer_id,
        }
        created = self._api.call(
            "POST",
            AGREEMENTS,
            body=body,
            idempotency_key=recurring_key(request.idempotency_key, "agreement"),
        )
        agreement_id, url = created.get("agreementId"), created.get("vippsConfirmationUrl")
        if not isinstance(agreement_id, str) or not agreement_id or not isinstance(url, str):
            raise ProviderUnavailable(self.name, "MobilePay drafted no agreement")
        return SetupSession(self.name, agreement_id, redirect_url=url)

    def saved_methods(self, provider_customer_id: str) -> list[SavedMethod]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            listed = self._api.call_list(
                "GET", f"{AGREEMENTS}?status=ACTIVE&pageNumber={page}&pageSize={PAGE_SIZE}"
            )
            found += [
                a
                for a in listed
                if isinstance(a, dict) and a.get("externalId") == provider_customer_id
            ]
            if len(listed) < PAGE_SIZE:
                break
            page += 1
        found.sort(key=lambda a: str(a.get("start") or ""), reverse=True)
        return [SavedMethod(str(a["id"]), BRAND, None, None, None) for a in found if a.get("id")]

    def remove_method(
        self, provider_customer_id: str, provider_method_id: str, idempotency_key: str
    ) -> None:
        agreement = self._agreement_of(provider_customer_id, provider_method_id)
        if agreement.get("status") in _GONE:
            return  # stopped before (a retry), or never approved
        self._api.call(
            "PATCH",
            self._agreement_path(provider_method_id),
            body={"status": "STOPPED"},
            idempotency_key=recurring_key(idempotency_key, "stop"),
        )

    def charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        agreement = self._agreement_of(request.provider_customer_id, request.provider_method_id)
        if agreement.get("status") != "ACTIVE":
            raise ProviderRejected(
                self.name,
                f"the MobilePay agreement is {agreement.get('status')}, not ACTIVE",
                provider_code="agreement_not_active",
            )
        amount = request.amount
        currency = _object(agreement, "pricing").get("currency")
        if amount.currency != currency or not amount.is_positive:
            raise ProviderRejected(
                self.name,
                f"the agreement charges a positive amount in {currency}",
                provider_code="amount_invalid",
            )
        charge_id = refs.payment_reference(
            request.payment_id, False, request.idempotency_key, self.name
        )
        created = self._api.call(
            "POST",
            f"{self._agreement_path(request.provider_method_id)}/charges",
            body={
                "amount": amount.amount,
                "transactionType": "DIRECT_CAPTURE",
                "description": _description(request.description),
                "type": "UNSCHEDULED",
                "orderId": charge_id,
            },
            idempotency_key=recurring_key(request.idempotency_key, "charge"),
        )
        if created.get("chargeId", charge_id) != charge_id:
            raise ProviderUnavailable(self.name, "MobilePay answered for another charge")
        return ChargeResult(self.name, charge_id, ChargeStatus.PROCESSING)

    def customer_of_agreement(self, agreement_id: str) -> str | None:
        """Our customer id for an agreement whose webhook did not carry its externalId."""
        try:
            agreement = self._api.call("GET", self._agreement_path(agreement_id))
        except ProviderRejected:
            raise MalformedWebhook("the agreement is not one of this sales unit's") from None
        external = agreement.get("externalId")
        return customer_of(external if isinstance(external, str) else None)

    # Mechanics.

    def _agreement_of(self, provider_customer_id: str, agreement_id: str) -> dict[str, Any]:
        """The agreement, when the customer holds it; ProviderRejected (resource_missing)
        for one they do not hold, or none at all."""
        try:
            agreement = self._api.call("GET", self._agreement_path(agreement_id))
        except ProviderRejected as error:
            raise ProviderRejected(
                self.name, "the customer holds no such agreement", provider_code="resource_missing"
            ) from error
        if agreement.get("externalId") != provider_customer_id:
            raise ProviderRejected(
                self.name, "the customer holds no such agreement", provider_code="resource_missing"
            )
        return agreement

    def _agreement_path(self, agreement_id: str) -> str:
        if not _AGREEMENT_ID.fullmatch(agreement_id):
            raise ProviderRejected(
                self.name, "not a MobilePay agreement id", provider_code="resource_missing"
            )
        return f"{AGREEMENTS}/{quote(agreement_id, safe='')}"


def _object(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _description(text: str) -> str:
    """What the app shows for the charge: 1 to 45 characters."""
    return (text.strip() or "Charge")[:MAX_CHARGE_DESCRIPTION]


def charge_money(value: Any, currency: Any) -> Money | None:
    if value is None:
        return None
    if type(value) is not int or value < 0 or currency not in RECURRING_CURRENCIES:
        raise MalformedWebhook("a charge's amount is minor units in NOK, DKK or EUR")
    return Money(value, str(currency))

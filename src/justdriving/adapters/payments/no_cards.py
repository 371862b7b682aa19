"""The cards-on-file and connected-account verbs of a gateway without them: each refuses,
clearly."""

from __future__ import annotations

from typing import NoReturn

from justdriving.domain.errors import CapabilityNotSupported
from justdriving.domain.saved_methods import SavedMethod
from justdriving.ports.payments import (
    ChargeResult,
    CustomerRequest,
    SavedChargeRequest,
    SetupRequest,
    SetupSession,
)

CAPABILITY = "keep cards on file or charge them without the payer"


class NoCardsOnFile:
    """Mixed into a gateway (PayPal's, here) without saved methods, off-session charges or
    connected accounts."""

    name: str
    account: str | None = None  # always the platform's own

    def create_customer(self, request: CustomerRequest) -> str:
        self._refuse()

    def start_setup(self, request: SetupRequest) -> SetupSession:
        self._refuse()

    def saved_methods(self, provider_customer_id: str) -> list[SavedMethod]:
        self._refuse()

    def remove_method(
        self, provider_customer_id: str, provider_method_id: str, idempotency_key: str
    ) -> None:
        self._refuse()

    def charge_saved(self, request: SavedChargeRequest) -> ChargeResult:
        self._refuse()

    def on_account(self, account_id: str) -> NoReturn:
        """PayPal has no connected accounts of ours; a school's own PayPal is its credentials."""
        raise CapabilityNotSupported(self.name, "take payments for a connected account")

    def _refuse(self) -> NoReturn:
        raise CapabilityNotSupported(self.name, CAPABILITY)

"""A school's own account at a payment provider: setting its PayPal credentials (checked for
their shape, the school checked to exist, nothing stored on a refusal). The gateway registry
uses them from the next payment on; the secret is sealed at rest and never read back."""

from __future__ import annotations

from justdriving.domain.errors import ConfigurationError
from justdriving.domain.gateway_credentials import PAYPAL, GatewayCredentials, SchoolPayPal
from justdriving.ports.persistence import UnitOfWorkFactory


class SchoolAccounts:
    def __init__(self, uow: UnitOfWorkFactory, *, unsealed: bool = False) -> None:
        """`unsealed`: secrets would be stored as they are (no ACCOUNTING_TOKEN_KEY in
        production), so none is taken."""
        self._uow, self._unsealed = uow, unsealed

    def set_school_paypal(
        self, school_id: str, client_id: str, client_secret: str, webhook_id: str
    ) -> SchoolPayPal:
        """The school takes PayPal payments on its own account: its REST app's client id and
        secret, and the id of the webhook registered at PayPal for the URL `webhook_path`
        (`/webhook/payments/paypal/<school id>`). Replaces earlier credentials."""
        credentials = GatewayCredentials.paypal(school_id, client_id, client_secret, webhook_id)
        if self._unsealed:
            raise ConfigurationError(
                "a school's PayPal secret is stored only encrypted in production",
                ["ACCOUNTING_TOKEN_KEY is not set (see the README)"],
            )
        with self._uow() as uow:
            uow.schools.get(school_id)  # NotFound for a school we do not know
            stored = uow.gateway_credentials.find(credentials.id)
            if stored is None:
                uow.gateway_credentials.add(credentials)
            else:
                stored.change(credentials)
            uow.commit()
        return SchoolPayPal(school_id, client_id, webhook_id)

    def school_paypal(self, school_id: str) -> SchoolPayPal | None:
        """The school's own PayPal account (without its secret), None when it has none."""
        with self._uow() as uow:
            uow.schools.get(school_id)
            stored = uow.gateway_credentials.find(GatewayCredentials.key(PAYPAL, school_id))
        if stored is None:
            return None
        return SchoolPayPal(school_id, stored.client_id, stored.webhook_id)

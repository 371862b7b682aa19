"""Gateways per school: the platform's (PAYMENT_PROVIDER, with its Stripe Connect accounts),
and a school's own PayPal account where it set its credentials (`set_school_paypal`). A
school's orders, captures, refunds and webhook checks then run on its account: its client id
and secret get the OAuth token, its webhook id verifies the deliveries to its own URL,
`/webhook/payments/paypal/<school id>`."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

from justdriving.domain.errors import ConfigurationError, NotFound
from justdriving.domain.gateway_credentials import PAYPAL, GatewayCredentials
from justdriving.domain.payments import Payment
from justdriving.domain.schools import School
from justdriving.ports.payments import ConnectedAccounts, GatewayRegistry, PaymentGateway
from justdriving.ports.persistence import UnitOfWorkFactory

Build = Callable[[GatewayCredentials], PaymentGateway]


class SchoolGateways:
    """Implements ports.payments.GatewayRegistry over the platform's registry and the
    schools' stored credentials."""

    def __init__(self, platform: GatewayRegistry, uow: UnitOfWorkFactory, paypal: Build) -> None:
        self._platform, self._uow, self._build = platform, uow, paypal
        self._made: dict[str, tuple[str, PaymentGateway]] = {}  # school -> (fingerprint, it)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SchoolGateways(platform={self._platform!r})"

    def for_school(self, school: School) -> PaymentGateway:
        try:
            gateway: PaymentGateway | None = self._platform.for_school(school)
        except ConfigurationError:  # PayPal chosen but not configured platform-wide
            if school.settings.payment_gateway != PAYPAL:
                raise
            gateway = None
        if gateway is None or gateway.name == PAYPAL:
            own = self._own(school.id)
            if own is not None:
                return own
        if gateway is None:
            return self._platform.by_name(PAYPAL)  # the ConfigurationError naming it
        return gateway

    def by_name(self, name: str) -> PaymentGateway:
        return self._platform.by_name(name)

    def for_payment(self, payment: Payment) -> PaymentGateway:
        """A PayPal payment of a school with its own account: on that account (captures,
        voids, refunds go where the order was made)."""
        if payment.provider == PAYPAL and payment.connected_account is None:
            own = self._own(payment.school_id)
            if own is not None:
                return own
        return self._platform.for_payment(payment)

    def connect_for(self, school: School) -> tuple[PaymentGateway, ConnectedAccounts]:
        return self._platform.connect_for(school)

    def school_gateway(self, name: str, school_id: str) -> PaymentGateway:
        own = self._own(school_id) if name == PAYPAL else None
        if own is None:
            raise NotFound("payment provider", f"{name}/{school_id}"[:64])
        return own

    def _own(self, school_id: str) -> PaymentGateway | None:
        with self._uow() as uow:
            credentials = uow.gateway_credentials.find(GatewayCredentials.key(PAYPAL, school_id))
        if credentials is None:
            return None
        fingerprint = _fingerprint(credentials)
        with self._lock:
            made = self._made.get(school_id)
            if made is None or made[0] != fingerprint:
                made = self._made[school_id] = (fingerprint, self._build(credentials))
            return made[1]


def _fingerprint(credentials: GatewayCredentials) -> str:
    """Which credentials a gateway was made with, without keeping the secret as it is."""
    text = "\n".join((credentials.client_id, credentials.client_secret, credentials.webhook_id))
    return hashlib.sha256(text.encode()).hexdigest()

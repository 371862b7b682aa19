"""Payment gateways by name: the one a school chose, or an error saying why there is none."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast

from justdriving.domain.errors import ConfigurationError, NotFound, PaymentNotAllowed
from justdriving.domain.payments import Payment
from justdriving.domain.schools import DEFAULT_GATEWAY, School
from justdriving.ports.payments import ConnectedAccounts, PaymentGateway

ONLY_ONE = "<the only one>"


class MemoryGatewayRegistry:
    """The gateways this deployment has, by name. A school names the one it uses, leaves the
    platform's `default` (PAYMENT_PROVIDER), or takes manual payments only (None).

    Gateways named in `connected` are in Connect mode (STRIPE_CONNECT): a school's card
    payments go to its own connected account, and wait until charges are enabled on it."""

    def __init__(
        self,
        gateways: Mapping[str, PaymentGateway],
        default: str | None = ONLY_ONE,
        *,
        connected: Collection[str] = (),
    ) -> None:
        """`default` names the platform's gateway; None: none (manual payments only); left
        out: the only gateway there is, if there is just one."""
        self._gateways = dict(gateways)
        if default == ONLY_ONE:
            default = next(iter(self._gateways)) if len(self._gateways) == 1 else None
        self._default = default
        self._connected = frozenset(connected)

    def for_school(self, school: School) -> PaymentGateway:
        name = self._name_for(school)
        gateway = self.by_name(name)
        if name in self._connected:
            return gateway.on_account(school.card_account().account_id)
        return gateway

    def school_gateway(self, name: str, school_id: str) -> PaymentGateway:
        """No school has an account of its own here."""
        raise NotFound("payment provider", f"{name}/{school_id}"[:64])

    def by_name(self, name: str) -> PaymentGateway:
        gateway = self._gateways.get(name)
        if gateway is None:
            configured = ", ".join(sorted(self._gateways)) or "none"
            raise ConfigurationError(
                f"payment gateway {name!r} is not configured here", [f"configured: {configured}"]
            )
        return gateway

    def for_payment(self, payment: Payment) -> PaymentGateway:
        if payment.provider is None:
            raise PaymentNotAllowed("the payment was not made with a gateway")
        gateway = self.by_name(payment.provider)
        if payment.connected_account is not None:
            return gateway.on_account(payment.connected_account)
        return gateway

    def connect_for(self, school: School) -> tuple[PaymentGateway, ConnectedAccounts]:
        name = self._name_for(school)
        if name not in self._connected:
            raise ConfigurationError(
                f"payment gateway {name!r} does not take payments for connected accounts here",
                ["STRIPE_CONNECT: set it to 1 with PAYMENT_PROVIDER=stripe"],
            )
        gateway = self.by_name(name)
        if not all(hasattr(gateway, verb) for verb in ("create_account", "onboarding_link")):
            raise ConfigurationError(f"payment gateway {name!r} makes no connected accounts")
        return gateway, cast(ConnectedAccounts, gateway)

    def _name_for(self, school: School) -> str:
        name = school.settings.payment_gateway
        if name is None:
            raise PaymentNotAllowed("manual payments only")
        if name == DEFAULT_GATEWAY:
            if self._default is None:
                raise PaymentNotAllowed("this platform takes manual payments only")
            name = self._default
        return name

"""Payment gateways by name: the one a school chose, or an error saying why there is none."""

from __future__ import annotations

from collections.abc import Mapping

from justdriving.domain.errors import ConfigurationError, NotFound, PaymentNotAllowed
from justdriving.domain.schools import DEFAULT_GATEWAY, School
from justdriving.ports.payments import PaymentGateway

ONLY_ONE = "<the only one>"


class MemoryGatewayRegistry:
    """The gateways this deployment has, by name. A school names the one it uses, leaves the
    platform's `default` (PAYMENT_PROVIDER), or takes manual payments only (None)."""

    def __init__(
        self, gateways: Mapping[str, PaymentGateway], default: str | None = ONLY_ONE
    ) -> None:
        """`default` names the platform's gateway; None: none (manual payments only); left
        out: the only gateway there is, if there is just one."""
        self._gateways = dict(gateways)
        if default == ONLY_ONE:
            default = next(iter(self._gateways)) if len(self._gateways) == 1 else None
        self._default = default

    def for_school(self, school: School) -> PaymentGateway:
        name = school.settings.payment_gateway
        if name is None:
            raise PaymentNotAllowed("manual payments only")
        if name == DEFAULT_GATEWAY:
            if self._default is None:
                raise PaymentNotAllowed("this platform takes manual payments only")
            name = self._default
        return self.by_name(name)

    def school_gateway(self, name: str, school_id: str) -> PaymentGateway:
        """No school has an account of its own here."""
        raise NotFound("payment provider", f"{name}/{school_id}"[:64])

    def by_name(self, name: str, school_id: str | None = None) -> PaymentGateway:
        gateway = self._gateways.get(name)
        if gateway is None:
            configured = ", ".join(sorted(self._gateways)) or "none"
            raise ConfigurationError(
                f"payment gateway {name!r} is not configured here", [f"configured: {configured}"]
            )
        return gateway

"""The payment gateways PAYMENT_PROVIDER chooses, each provider's SDK imported only then."""

from __future__ import annotations

from collections.abc import Callable

from justdriving.adapters.memory.gateways import MemoryGatewayRegistry
from justdriving.config import PaymentSettings, Settings
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.ports.payments import GatewayRegistry, PaymentGateway
from justdriving.ports.persistence import UnitOfWorkFactory


def stripe_gateway(settings: PaymentSettings) -> PaymentGateway:
    from justdriving.adapters.payments.stripe import StripeGateway

    return StripeGateway(
        settings.payment_provider_secret or "",
        settings.payment_webhook_secret or "",
        api_base=settings.payment_api_base_url,
    )


def paypal_gateway(settings: Settings) -> PaymentGateway:
    """PayPal on PAYMENT_API_BASE_URL, else its live API in production, its sandbox outside."""
    from justdriving.adapters.payments.paypal import LIVE_API, SANDBOX_API, PayPalGateway

    return PayPalGateway(
        settings.payment_provider_key or "",
        settings.payment_provider_secret or "",
        settings.payment_webhook_secret or "",
        api_base=settings.payment_api_base_url
        or (LIVE_API if settings.is_production else SANDBOX_API),
    )


def school_paypal(settings: Settings) -> Callable[[GatewayCredentials], PaymentGateway]:
    """A school's own PayPal account, on the same API as the platform's PayPal."""

    def build(credentials: GatewayCredentials) -> PaymentGateway:
        from justdriving.adapters.payments.paypal import LIVE_API, SANDBOX_API, PayPalGateway

        return PayPalGateway(
            credentials.client_id,
            credentials.client_secret,
            credentials.webhook_id,
            api_base=settings.payment_api_base_url
            or (LIVE_API if settings.is_production else SANDBOX_API),
        )

    return build


def school_gateways(
    platform: GatewayRegistry, uow: UnitOfWorkFactory, settings: Settings
) -> GatewayRegistry:
    """The platform's gateways, and each school's own PayPal account where it has one."""
    from justdriving.adapters.payments.school_gateways import SchoolGateways

    return SchoolGateways(platform, uow, school_paypal(settings))


def gateway_registry(gateway: PaymentGateway | None) -> MemoryGatewayRegistry:
    """The platform's gateway (each school's default), and no other: its webhook route is the
    only one mounted. The fake is there only when it is the one chosen (never in production),
    so that an event signed with PAYMENT_WEBHOOK_SECRET — a PayPal webhook id is no secret —
    or the public development secret can never reach a real provider's payments. None:
    manual payments only."""
    if gateway is None:
        return MemoryGatewayRegistry({}, default=None)
    return MemoryGatewayRegistry({gateway.name: gateway}, default=gateway.name)

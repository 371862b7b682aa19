"""The payment gateways PAYMENT_PROVIDER chooses, each provider's SDK imported only then."""

from __future__ import annotations

from collections.abc import Callable

from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.config import PaymentSettings, Settings
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.ports.payments import GatewayRegistry, PaymentGateway
from justdriving.ports.persistence import UnitOfWorkFactory

STRIPE, STRIPE_CONNECT = "stripe", "stripe-connect"


def stripe_gateway(settings: PaymentSettings, webhook_secret: str | None = None) -> PaymentGateway:
    """Stripe; its webhooks verified with `webhook_secret` (default PAYMENT_WEBHOOK_SECRET)."""
    from justdriving.adapters.payments.stripe import StripeGateway

    return StripeGateway(
        settings.payment_provider_secret or "",
        settings.payment_webhook_secret or "" if webhook_secret is None else webhook_secret,
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
        from justdriving.adapters.payments.paypal.gateway import (
            LIVE_API,
            SANDBOX_API,
            PayPalGateway,
        )

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


def mobilepay_gateway(settings: Settings) -> PaymentGateway | None:
    """Vipps MobilePay's ePayment gateway when its MOBILEPAY_* settings are set (all of them:
    ConfigurationError names those missing), else None. Its webhooks are registered for
    PUBLIC_BASE_URL + /webhook/payments/mobilepay, which is what their signature covers."""
    if not settings.mobilepay_configured:
        return None
    from justdriving.adapters.payments.mobilepay import Credentials, MobilePayGateway

    base = (settings.public_base_url or "").rstrip("/")
    return MobilePayGateway(
        Credentials(
            settings.mobilepay_client_id or "",
            settings.mobilepay_client_secret or "",
            settings.mobilepay_subscription_key or "",
            settings.mobilepay_merchant_serial_number or "",
        ),
        settings.mobilepay_webhook_secret or "",
        f"{base}/webhook/payments/mobilepay" if base else "",
        api_base=settings.mobilepay_api(settings.is_production),
    )


def gateway_registry(
    gateway: PaymentGateway | None,
    *others: PaymentGateway | None,
    settings: PaymentSettings | None = None,
) -> MemoryGatewayRegistry:
    """The platform's gateway (each school's default), and no other: its webhook route is the
    only one mounted. The fake is there only when it is the one chosen (never in production),
    so that an event signed with PAYMENT_WEBHOOK_SECRET — a PayPal webhook id is no secret —
    or the public development secret can never reach a real provider's payments. None:
    manual payments only. `others` are gateways a school may choose by name besides the
    platform's (Vipps MobilePay), each with its own credentials and webhook secret.

    With STRIPE_CONNECT and Stripe, schools' payments go to their connected accounts, and
    Connect's events come to their own route, `stripe-connect`, verified with
    STRIPE_CONNECT_WEBHOOK_SECRET (the same gateway otherwise: its payments are `stripe`'s)."""
    chosen = {other.name: other for other in others if other is not None}
    if gateway is None:
        return MemoryGatewayRegistry(chosen, default=None)
    if settings is None or not settings.stripe_connect or gateway.name != STRIPE:
        return MemoryGatewayRegistry({**chosen, gateway.name: gateway}, default=gateway.name)
    if not settings.stripe_connect_webhook_secret:
        raise ConfigurationError(
            "Stripe Connect is on without its webhook secret",
            ["STRIPE_CONNECT_WEBHOOK_SECRET: the Connect endpoint's whsec_… signing secret"],
        )
    connect_events = stripe_gateway(settings, settings.stripe_connect_webhook_secret)
    gateways = {STRIPE: gateway, STRIPE_CONNECT: connect_events}
    return MemoryGatewayRegistry({**chosen, **gateways}, default=STRIPE, connected=gateways)

"""Payments: the platform's gateway, its credentials and its API root."""

import enum

from attrs import frozen

from justdriving.config.fields import fake, missing, not_https, secret


class PaymentProvider(enum.StrEnum):
    FAKE = "fake"
    STRIPE = "stripe"
    PAYPAL = "paypal"
    MANUAL = "manual"


@frozen(kw_only=True, slots=False)
class PaymentSettings:
    """PAYMENT_PROVIDER and its PAYMENT_* credentials."""

    payment_provider: PaymentProvider = PaymentProvider.FAKE
    payment_provider_key: str | None = secret()
    payment_provider_secret: str | None = secret()
    payment_webhook_secret: str | None = secret()
    # The provider's API root: unset means its live API (PayPal: its sandbox outside
    # production). Tests point it at the simulators in justdriving.testing.
    payment_api_base_url: str | None = None
    # Stripe Connect: each school's card payments are made on its own connected account
    # (direct charges), whose events come to /webhook/payments/stripe-connect signed with the
    # Connect endpoint's own secret (docs/tenancy.md).
    stripe_connect: bool = False
    stripe_connect_webhook_secret: str | None = secret()

    def payments_in_production(self) -> list[str]:
        """A real provider with its secrets, no Stripe test-mode key, no sandbox, no http."""
        provider = self.payment_provider
        if provider is PaymentProvider.FAKE:
            return [fake("PAYMENT_PROVIDER", provider, "stripe, paypal or manual")]
        problems: list[str] = []
        if provider is PaymentProvider.STRIPE:
            problems += missing(
                PAYMENT_PROVIDER_SECRET=self.payment_provider_secret,
                PAYMENT_WEBHOOK_SECRET=self.payment_webhook_secret,
            )
            if (self.payment_provider_secret or "").startswith(("sk_test_", "rk_test_")):
                problems.append("PAYMENT_PROVIDER_SECRET is a Stripe test-mode key")
            if (self.payment_provider_key or "").startswith("pk_test_"):
                problems.append("PAYMENT_PROVIDER_KEY is a Stripe test-mode publishable key")
            if self.stripe_connect:
                problems += missing(
                    STRIPE_CONNECT_WEBHOOK_SECRET=self.stripe_connect_webhook_secret
                )
        elif provider is PaymentProvider.PAYPAL:
            problems += missing(
                PAYMENT_PROVIDER_KEY=self.payment_provider_key,
                PAYMENT_PROVIDER_SECRET=self.payment_provider_secret,
                PAYMENT_WEBHOOK_SECRET=self.payment_webhook_secret,
            )
        if self.stripe_connect and provider is not PaymentProvider.STRIPE:
            problems.append("STRIPE_CONNECT is on but PAYMENT_PROVIDER is not stripe")
        base = self.payment_api_base_url or ""
        if "sandbox" in base.lower():
            problems.append("PAYMENT_API_BASE_URL points at a sandbox")
        else:
            problems += not_https(PAYMENT_API_BASE_URL=base)
        return [f"{p} (PAYMENT_PROVIDER={provider})" for p in problems]

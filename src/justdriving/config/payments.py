"""Payments: the platform's gateway, its credentials and its API root."""

import enum
import re
from typing import Any

from attrs import field, frozen

from justdriving.config.fields import fake, missing, not_https, secret

MOBILEPAY_TEST_API = "https://apitest.vipps.no"
MOBILEPAY_LIVE_API = "https://api.vipps.no"
MOBILEPAY_SETTINGS = (
    "MOBILEPAY_CLIENT_ID",
    "MOBILEPAY_CLIENT_SECRET",
    "MOBILEPAY_SUBSCRIPTION_KEY",
    "MOBILEPAY_MERCHANT_SERIAL_NUMBER",
    "MOBILEPAY_WEBHOOK_SECRET",
)


def _merchant_serial_number(_instance: Any, _attribute: Any, value: str | None) -> None:
    """A sales unit's MSN: 4 to 10 digits (ePayment's MSNType)."""
    if value is not None and not re.fullmatch(r"[0-9]{4,10}", value):
        raise ValueError("must be the sales unit's merchant serial number: 4 to 10 digits")


def _api_base(_instance: Any, _attribute: Any, value: str | None) -> None:
    if value is not None and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ValueError("must be an http(s) URL such as https://api.vipps.no")


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
    # Vipps MobilePay's ePayment API, a gateway of its own ("mobilepay") a school can choose
    # beside PAYMENT_PROVIDER: a sales unit's API keys, its MSN, the secret the Webhooks API
    # gave when our webhook was registered, and the API root (unset: the test environment
    # outside production, the live one in production).
    mobilepay_client_id: str | None = secret()
    mobilepay_client_secret: str | None = secret()
    mobilepay_subscription_key: str | None = secret()
    mobilepay_merchant_serial_number: str | None = field(
        default=None, validator=_merchant_serial_number
    )
    mobilepay_webhook_secret: str | None = secret()
    mobilepay_api_base: str | None = field(default=None, validator=_api_base)

    @property
    def mobilepay_configured(self) -> bool:
        """Whether any MOBILEPAY_* credential is set (then all of them must be)."""
        return any(self._mobilepay_values().values())

    def mobilepay_missing(self) -> list[str]:
        return [name for name, value in self._mobilepay_values().items() if not value]

    def mobilepay_api(self, production: bool) -> str:
        return self.mobilepay_api_base or (MOBILEPAY_LIVE_API if production else MOBILEPAY_TEST_API)

    def _mobilepay_values(self) -> dict[str, str | None]:
        return dict(
            zip(
                MOBILEPAY_SETTINGS,
                (
                    self.mobilepay_client_id,
                    self.mobilepay_client_secret,
                    self.mobilepay_subscription_key,
                    self.mobilepay_merchant_serial_number,
                    self.mobilepay_webhook_secret,
                ),
                strict=True,
            )
        )

    def mobilepay_in_production(self) -> list[str]:
        """All of MobilePay's settings or none; the live API, over https."""
        if not self.mobilepay_configured:
            return []
        problems = [
            f"{name} is not set (MobilePay needs all of them)" for name in self.mobilepay_missing()
        ]
        base = self.mobilepay_api(production=True)
        if "apitest." in base.lower():
            problems.append("MOBILEPAY_API_BASE points at the MobilePay test environment")
        else:
            problems += not_https(MOBILEPAY_API_BASE=base)
        return problems

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
        return [f"{p} (PAYMENT_PROVIDER={provider})" for p in problems] + (
            self.mobilepay_in_production()
        )

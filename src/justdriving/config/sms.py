"""SMS: the provider, its credentials, the sender, pacing, and staging's redirect."""

import enum
from typing import Self

import attrs
from attrs import field, frozen

from justdriving.config.fields import fake, missing, not_https, secret, str_tuple, url


class SmsProvider(enum.StrEnum):
    FAKE = "fake"
    LOG = "log"
    TWILIO = "twilio"
    GATEWAYAPI = "gatewayapi"


def _positive_or_unset(
    _instance: object, _attribute: "attrs.Attribute[int | None]", value: int | None
) -> None:
    if value is not None and value < 1:
        raise ValueError(
            "must be a whole number of messages per second, at least 1 (unset: no pacing)"
        )


def _redis(_instance: object, _attribute: "attrs.Attribute[str | None]", value: str | None) -> None:
    if value is not None and not value.startswith(("redis://", "rediss://")):
        raise ValueError("must be a Redis URL (redis://host:6379/0 or rediss://...)")


@frozen(kw_only=True, slots=False)
class SmsSettings:
    """SMS_PROVIDER and every SMS_* variable."""

    sms_provider: SmsProvider = SmsProvider.FAKE
    sms_provider_key: str | None = secret()
    sms_provider_secret: str | None = secret()
    sms_from_number: str | None = None
    sms_enabled: bool = True
    sms_redirect_to: str | None = None
    sms_allowlist: tuple[str, ...] = field(default=(), converter=str_tuple)
    # Added by justdriving: GatewayAPI's webhook signing secret, and the SMS provider's API
    # root (GatewayAPI's EU host, or a simulator in tests).
    sms_webhook_secret: str | None = secret()
    sms_api_base_url: str | None = None
    # Added by justdriving: SMS sends per second per process (client-side pacing of the
    # relay); unset means no pacing.
    sms_rate_limit: int | None = field(default=None, validator=_positive_or_unset)
    # Added by justdriving: where SMS_RATE_LIMIT is counted across processes and machines (a
    # Redis URL); unset, each process keeps the limit on its own.
    sms_rate_limit_storage: str | None = url(_redis)
    # Added by justdriving: a second SMS provider, taking what the first cannot (down, its
    # circuit open, a destination it cannot route), with its own credentials and sender.
    sms_fallback_provider: SmsProvider | None = None
    sms_fallback_key: str | None = secret()
    sms_fallback_secret: str | None = secret()
    sms_fallback_from_number: str | None = None
    sms_fallback_webhook_secret: str | None = secret()
    sms_fallback_api_base_url: str | None = None

    def sms_fallback(self) -> Self | None:
        """These settings with the fallback provider in the primary's place, or None."""
        if self.sms_fallback_provider is None:
            return None
        return attrs.evolve(
            self,
            sms_provider=self.sms_fallback_provider,
            sms_provider_key=self.sms_fallback_key,
            sms_provider_secret=self.sms_fallback_secret,
            sms_from_number=self.sms_fallback_from_number,
            sms_webhook_secret=self.sms_fallback_webhook_secret,
            sms_api_base_url=self.sms_fallback_api_base_url,
            sms_fallback_provider=None,
        )

    def sms_fallback_problems(self) -> list[str]:
        """In any environment: a fallback is another provider than the first, and a shared
        rate limit needs the limit."""
        problems = []
        if self.sms_fallback_provider is not None and (
            self.sms_fallback_provider is self.sms_provider
        ):
            problems.append(
                f"SMS_FALLBACK_PROVIDER is SMS_PROVIDER ({self.sms_provider}): a fallback is "
                "another provider"
            )
        if self.sms_rate_limit_storage is not None and self.sms_rate_limit is None:
            problems.append(
                "SMS_RATE_LIMIT_STORAGE is set without SMS_RATE_LIMIT: there is no limit to share"
            )
        return problems

    def sms_in_production(self) -> list[str]:
        """A real provider with its secrets and sender, https only, no staging redirect."""
        provider = self.sms_provider
        problems: list[str] = []
        if provider in (SmsProvider.FAKE, SmsProvider.LOG):
            problems.append(fake("SMS_PROVIDER", provider, "twilio or gatewayapi"))
        elif provider is SmsProvider.TWILIO:
            problems += missing(
                SMS_PROVIDER_KEY=self.sms_provider_key,
                SMS_PROVIDER_SECRET=self.sms_provider_secret,
                SMS_FROM_NUMBER=self.sms_from_number,
            )
        elif provider is SmsProvider.GATEWAYAPI:
            problems += missing(
                SMS_PROVIDER_SECRET=self.sms_provider_secret,
                SMS_FROM_NUMBER=self.sms_from_number,
                SMS_WEBHOOK_SECRET=self.sms_webhook_secret,
            )
        problems += not_https(SMS_API_BASE_URL=self.sms_api_base_url)
        problems = [f"{p} (SMS_PROVIDER={provider})" for p in problems]
        fallback = self.sms_fallback()
        if fallback is not None:
            problems += [
                _fallback_names(p)
                for p in fallback.sms_in_production()
                if "SMS_REDIRECT_TO" not in p
            ]
        if self.sms_redirect_to:
            problems.append("SMS_REDIRECT_TO is set: a staging redirect must not reach production")
        return problems

    def sms_in_staging(self) -> list[str]:
        if self.sms_redirect_to or self.sms_allowlist:
            return []
        return [
            "SMS_REDIRECT_TO or SMS_ALLOWLIST must be set in staging "
            "so that no real customer receives a text message"
        ]


def _fallback_names(problem: str) -> str:
    """A problem of the fallback's settings, named by the fallback's variables."""
    for primary, fallback in (
        ("SMS_PROVIDER_KEY", "SMS_FALLBACK_KEY"),
        ("SMS_PROVIDER_SECRET", "SMS_FALLBACK_SECRET"),
        ("SMS_FROM_NUMBER", "SMS_FALLBACK_FROM_NUMBER"),
        ("SMS_WEBHOOK_SECRET", "SMS_FALLBACK_WEBHOOK_SECRET"),
        ("SMS_API_BASE_URL", "SMS_FALLBACK_API_BASE_URL"),
        ("SMS_PROVIDER=", "SMS_FALLBACK_PROVIDER="),
        ("SMS_PROVIDER ", "SMS_FALLBACK_PROVIDER "),
    ):
        problem = problem.replace(primary, fallback)
    return problem

"""The SMS senders SMS_PROVIDER chooses, each imported only then (their webhook receivers:
`adapters/webhooks/factory.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from justdriving.config import Settings, SmsProvider, SmsSettings
from justdriving.ports.clock import Clock
from justdriving.ports.messaging import SmsSender

if TYPE_CHECKING:
    from justdriving.adapters.rate_limits import CallPacer

SMS_STATUS_PATH = "/webhook/sms/{provider}/status"


def _status_callback(settings: Settings) -> str | None:
    """Where the provider reports delivery: PUBLIC_BASE_URL's status route, if it is set."""
    path = SMS_STATUS_PATH.format(provider=settings.sms_provider.value)
    base = settings.public_base_url
    return base.rstrip("/") + path if base else None


def sms_limiter(settings: SmsSettings) -> CallPacer | None:
    """The process's one SMS rate limiter (SMS_RATE_LIMIT a second; shared by every process
    on SMS_RATE_LIMIT_STORAGE when it is set), or None: no pacing."""
    if settings.sms_rate_limit is None:
        return None
    from justdriving.adapters.sms.pacing import sms_limiter as limiter

    return limiter(settings.sms_rate_limit, settings.sms_rate_limit_storage)


def _paced(sender: SmsSender, limiter: CallPacer | None) -> SmsSender:
    if limiter is None:
        return sender
    from justdriving.adapters.sms.pacing import PacedSmsSender

    return PacedSmsSender(sender, limiter, key=sender.name)


def twilio_sender(settings: Settings, limiter: CallPacer | None) -> SmsSender:
    from justdriving.adapters.sms.twilio import TwilioSmsSender

    sender = TwilioSmsSender(
        settings.sms_provider_key or "",
        settings.sms_provider_secret or "",
        from_number=settings.sms_from_number,
        status_callback=_status_callback(settings),
        api_base=settings.sms_api_base_url,
    )
    return _paced(sender, limiter)


def gatewayapi_sender(settings: Settings, limiter: CallPacer | None) -> SmsSender:
    from justdriving.adapters.sms.gatewayapi import DEFAULT_API_BASE, GatewayApiSmsSender

    sender = GatewayApiSmsSender(
        settings.sms_provider_secret or "",
        sender=settings.sms_from_number or "",
        callback_url=_status_callback(settings),
        api_base=settings.sms_api_base_url or DEFAULT_API_BASE,
    )
    return _paced(sender, limiter)


def with_fallback(
    primary: SmsSender, settings: Settings, limiter: CallPacer | None, clock: Clock
) -> SmsSender:
    """The primary sender alone, or with SMS_FALLBACK_PROVIDER taking what it cannot."""
    fallback = settings.sms_fallback()
    if fallback is None:
        return primary
    from justdriving.adapters.sms.failover import FailoverSmsSender

    return FailoverSmsSender(primary, _sender(fallback, limiter), clock)


def _sender(settings: Settings, limiter: CallPacer | None) -> SmsSender:
    provider = settings.sms_provider
    if provider is SmsProvider.TWILIO:
        return twilio_sender(settings, limiter)
    if provider is SmsProvider.GATEWAYAPI:
        return gatewayapi_sender(settings, limiter)
    from justdriving.adapters.memory import FakeSmsSender
    from justdriving.adapters.sms.log import LogSmsSender

    return FakeSmsSender() if provider is SmsProvider.FAKE else LogSmsSender()

"""The Application as the settings shape it: beside the adapters the container gives, what the
configuration decides for it (delivery policy, log redaction, the accounting consent flow, ...)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from justdriving.adapters.accounting.factory import accounting_consent
from justdriving.adapters.host_events import factory as host_event_adapters
from justdriving.adapters.webhooks import factory as webhook_adapters
from justdriving.application import Application
from justdriving.config import AccountingProvider, Settings
from justdriving.config.policies import delivery_policy
from justdriving.ports.accounting import AccountingConsent


def application(settings: Settings, **adapters: Any) -> Application:
    """The Application over the container's `adapters`, with what `settings` decide for it."""
    return Application(
        **adapters,
        delivery=delivery_policy(settings),
        redact=_redactor(settings),
        apply_webhooks_inline=webhook_adapters.apply_inline(settings),
        webhook_failures=webhook_adapters.log_failure,
        accounting_push=settings.accounting_sync_enabled,
        host_event_topics=host_event_adapters.host_event_topics(settings),
        staff_alert_email=settings.staff_alert_email,
        ops_base_url=settings.public_base_url,
        accounting_consent=_consent(settings),
        unsealed_secrets=_unsealed(settings),
    )


def _redactor(settings: Settings) -> Callable[[str], str]:
    """The log redaction (with this configuration's secret values), for stored error texts."""
    from justdriving.logs import Redactor, secret_values

    return Redactor(secret_values(settings)).text


def _consent(settings: Settings) -> Callable[[], AccountingConsent] | None:
    """The consent flow of ACCOUNTING_PROVIDER, made when a school connects its books."""
    if settings.accounting_provider not in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
        return None
    return partial(accounting_consent, settings)


def _unsealed(settings: Settings) -> bool:
    """Production without ACCOUNTING_TOKEN_KEY: a secret would be stored as it is."""
    return settings.is_production and not settings.accounting_token_key

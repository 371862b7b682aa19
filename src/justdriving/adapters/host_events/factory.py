"""The host's event endpoint for the container: None when HOST_WEBHOOK_URL is unset; the
Standard Webhooks sender (httpx and standardwebhooks, imported only then) otherwise."""

from __future__ import annotations

from justdriving.config.host_events import HostEventSettings
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.events import EVENT_TYPES
from justdriving.ports.clock import Clock
from justdriving.ports.host_events import HostEventSender


def host_event_sender(settings: HostEventSettings, clock: Clock) -> HostEventSender | None:
    url, secret = settings.host_webhook_url, settings.host_webhook_secret
    if not url and not secret:
        return None
    if not (url and secret):
        missing = "HOST_WEBHOOK_SECRET" if url else "HOST_WEBHOOK_URL"
        raise ConfigurationError("the host webhook needs its URL and its secret", [missing])
    unknown = sorted(set(settings.host_webhook_topics) - set(EVENT_TYPES))
    if unknown:
        raise ConfigurationError(
            "unknown event topics", [f"HOST_WEBHOOK_TOPICS: {', '.join(unknown)[:200]}"]
        )
    from justdriving.adapters.host_events.standard_webhooks import StandardWebhookSender

    return StandardWebhookSender(url, secret, clock)


def host_event_topics(settings: HostEventSettings) -> tuple[str, ...] | None:
    return settings.host_webhook_topics or None  # unset: every topic

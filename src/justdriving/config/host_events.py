"""The host application's endpoint for domain events (Standard Webhooks)."""

from attrs import field, frozen

from justdriving.config.fields import not_https, secret, str_tuple


@frozen(kw_only=True, slots=False)
class HostEventSettings:
    """HOST_WEBHOOK_URL, HOST_WEBHOOK_SECRET (whsec_…), HOST_WEBHOOK_TOPICS (unset: all)."""

    # Added by justdriving: where the host wants the domain events, the secret that signs
    # each delivery, and the topics it wants.
    host_webhook_url: str | None = None
    host_webhook_secret: str | None = secret()
    host_webhook_topics: tuple[str, ...] = field(default=(), converter=str_tuple)

    def host_events_in_production(self) -> list[str]:
        return not_https(HOST_WEBHOOK_URL=self.host_webhook_url)

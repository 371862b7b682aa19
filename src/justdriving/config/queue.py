"""The queue: how webhooks and the outbox are processed, and the relay's lease."""

import enum

from attrs import field, frozen

from justdriving.config.fields import between, url


class QueueBackend(enum.StrEnum):
    INLINE = "inline"
    WORKER = "worker"
    CELERY = "celery"


@frozen(kw_only=True, slots=False)
class QueueSettings:
    """QUEUE_BACKEND, CELERY_BROKER_URL, RELAY_LEASE_SECONDS, RELAY_IN_FLIGHT."""

    queue_backend: QueueBackend = QueueBackend.WORKER
    celery_broker_url: str | None = url()
    # Added by justdriving: how long a relay holds an outbox row it claimed. A row claimed by
    # a worker that died comes back after this; it must outlast the slowest provider call.
    relay_lease_seconds: int = field(default=120, validator=between(1, 3600))
    # Added by justdriving: how many outbox rows one relay claims together and works at once
    # (each provider call on a thread of the relay's pool; the database is used only to claim
    # and to record, once per round). 1 keeps them in the order claimed.
    relay_in_flight: int = field(default=1, validator=between(1, 256))

    def queue_in_production(self) -> list[str]:
        if self.queue_backend is QueueBackend.CELERY and not self.celery_broker_url:
            return ["CELERY_BROKER_URL is not set (QUEUE_BACKEND=celery)"]
        return []

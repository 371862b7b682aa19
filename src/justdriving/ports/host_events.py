"""Port: delivering domain events to the host application's webhook endpoint."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen


@frozen
class HostDelivery:
    """One event for the host. `webhook_id` is stable across every attempt (the receiver's
    deduplication key); `body` is the exact JSON sent and signed."""

    webhook_id: str
    topic: str
    body: bytes


class HostEventSender(Protocol):
    """Sends a delivery, signed, to the host's endpoint. A 2xx answer is success; a failure the
    host may get over (an outage, a 5xx, 429) is ProviderUnavailable, retried by the relay; an
    endpoint that is gone for good (410) is ProviderRejected."""

    name: str

    def send(self, delivery: HostDelivery) -> None: ...

"""An in-memory host endpoint behind the HostEventSender port: it keeps what it received, can be
told to fail, and answers like a receiver that deduplicates by `webhook-id`."""

from __future__ import annotations

import json
from typing import Any

from justdriving.domain.errors import JustDrivingError, ProviderRejected
from justdriving.ports.host_events import HostDelivery


class FakeHostEventSender:
    name = "host"

    def __init__(self) -> None:
        self.attempts: list[HostDelivery] = []
        self.received: dict[str, dict[str, Any]] = {}  # by webhook-id: each message once
        self._failures: list[JustDrivingError] = []

    def fail_next(self, error: JustDrivingError, times: int = 1) -> None:
        """The next `times` deliveries fail with `error`, as an endpoint that is down would."""
        self._failures += [error] * times

    def send(self, delivery: HostDelivery) -> None:
        self.attempts.append(delivery)
        if self._failures:
            raise self._failures.pop(0)
        try:
            message = json.loads(delivery.body)
        except ValueError:
            raise ProviderRejected(self.name, "the body is not JSON") from None
        if not isinstance(message, dict) or message.get("type") != delivery.topic:
            raise ProviderRejected(self.name, "the body's type is not the delivery's topic")
        self.received.setdefault(delivery.webhook_id, message)

    def topics(self) -> list[str]:
        return [str(message["type"]) for message in self.received.values()]

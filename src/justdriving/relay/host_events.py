"""The relay's call for a DELIVER_EVENT row: a domain event, as compact JSON, to the host
application's webhook endpoint (queued by `domain/services/outgoing_events.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from justdriving.domain.outbox import OutboxMessage
from justdriving.ports.host_events import HostDelivery, HostEventSender
from justdriving.ports.persistence import UnitOfWork
from justdriving.relay.messages import Job


def delivery_job(sender: HostEventSender, row: OutboxMessage) -> Job:
    """The relay's call for a DELIVER_EVENT row: its payload, as compact JSON, to the host."""
    delivery = HostDelivery(
        webhook_id=row.id, topic=str(row.payload["type"]), body=_body(row.payload)
    )
    return Job(f"events:{sender.name}", lambda: sender.send(delivery), _delivered)


def _body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _delivered(uow: UnitOfWork, result: Any, now: datetime) -> None:
    """A 2xx from the host is all there is to record; the row itself is marked sent."""

"""Payment webhooks: verify, store in the inbox, answer; apply once, now or by the worker."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

from justdriving.domain.errors import JustDrivingError
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import InboxEvent, InboxStatus
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import EventOutcome
from justdriving.domain.services.arguments import batch_limit
from justdriving.domain.services.payments import apply_payment_event
from justdriving.ports.clock import Clock
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import UnitOfWorkFactory

MAX_APPLY_ATTEMPTS = 10


@frozen
class WebhookReceipt:
    """What a delivery left in the inbox: new rows to apply, new rows of event types nobody
    handles (kept as IGNORED), and repeats that were dropped."""

    stored: tuple[str, ...]
    duplicates: int
    ignored: int = 0


class PaymentWebhooks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, gateways: GatewayRegistry) -> None:
        self._uow = uow
        self._clock = clock
        self._gateways = gateways

    def store(self, provider: str, body: bytes, headers: Mapping[str, str]) -> WebhookReceipt:
        """Verify the signature on the raw body and store each event once.

        Raises InvalidSignature or MalformedWebhook (nothing stored). A provider event already
        in the inbox is a duplicate: acknowledged, never applied again.
        """
        gateway = self._gateways.by_name(provider)
        now = self._clock.now()
        events = gateway.parse_webhook(body, headers, now)
        stored: list[str] = []
        ignored = 0
        with self._uow() as uow:
            for event in events:
                known = event.kind is not PaymentEventKind.UNKNOWN
                row = InboxEvent(
                    id=new_id("ibx"),
                    provider=gateway.name,
                    event_id=event.event_id,
                    event_type=event.raw_type,
                    received_at=now,
                    body=body,
                    payload=event.to_payload(),
                    status=InboxStatus.RECEIVED if known else InboxStatus.IGNORED,
                )
                if not uow.inbox.add(row):
                    continue
                if known:
                    stored.append(row.id)
                else:
                    ignored += 1
            uow.commit()
        duplicates = len(events) - len(stored) - ignored
        return WebhookReceipt(tuple(stored), duplicates, ignored)

    def apply(self, inbox_id: str) -> EventOutcome:
        """Apply one stored event in one unit of work with its effects; a repeat is a no-op."""
        now = self._clock.now()
        try:
            with self._uow() as uow:
                row = uow.inbox.get(inbox_id)
                if not row.waiting:
                    return EventOutcome.IGNORED
                event = ProviderPaymentEvent.from_payload(row.payload)
                outcome = apply_payment_event(uow, event, now)
                row.applied(outcome is not EventOutcome.IGNORED, now)
                uow.commit()
                return outcome
        except JustDrivingError as error:
            with self._uow() as uow:
                uow.inbox.get(inbox_id).failed(f"{type(error).__name__}: {error}")
                uow.commit()
            raise

    def apply_waiting(self, limit: int = 100) -> int:
        """Apply what is waiting in the inbox (the worker's job); returns how many it applied."""
        batch_limit(limit)
        with self._uow() as uow:
            waiting = [
                r.id
                for status in (InboxStatus.RECEIVED, InboxStatus.FAILED)
                for r in uow.inbox.list(status.value)
                if r.attempts < MAX_APPLY_ATTEMPTS
            ][:limit]
        applied = 0
        for inbox_id in waiting:
            try:
                self.apply(inbox_id)
                applied += 1
            except JustDrivingError:
                continue  # recorded on the row; tried again next round
        return applied

    def receive(self, provider: str, body: bytes, headers: Mapping[str, str]) -> list[EventOutcome]:
        """Store and apply at once (inline mode); a duplicate delivery gives IGNORED."""
        receipt = self.store(provider, body, headers)
        outcomes = [self.apply(inbox_id) for inbox_id in receipt.stored]
        return outcomes + [EventOutcome.IGNORED] * (receipt.duplicates + receipt.ignored)

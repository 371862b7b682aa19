"""What providers tell us about messages, straight from their callbacks: delivery receipts
once each, inbound replies once per provider event (applied by `steps/message_events.py`, as
the inbox applies them)."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from justdriving.domain.delivery import (
    DeliveryReceipt,
    InboundSms,
    Keyword,
)
from justdriving.domain.ids import new_id
from justdriving.domain.messages import Channel
from justdriving.domain.outbox import InboxEvent, InboxStatus
from justdriving.domain.services.steps.message_events import apply_inbound_sms, apply_receipt
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory


@frozen
class ReceiptOutcome:
    applied: int = 0
    duplicates: int = 0
    unmatched: int = 0  # no message of ours (sent by another system, or already purged)


class MessageWebhooks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def receipts(self, channel: Channel, receipts: list[DeliveryReceipt]) -> ReceiptOutcome:
        """Apply verified receipts once each: the inbox dedupes on (provider, event id)."""
        now = self._clock.now()
        applied = duplicates = unmatched = 0
        with self._uow() as uow:
            for receipt in receipts:
                if not _first_time(uow, f"{receipt.provider}:{channel}", receipt.event_id, now):
                    duplicates += 1
                elif apply_receipt(uow, receipt, now):
                    applied += 1
                else:
                    unmatched += 1
            uow.commit()
        return ReceiptOutcome(applied, duplicates, unmatched)

    def inbound_sms(self, sms: InboundSms) -> Keyword:
        """STOP: never text this number again (from any school on this sender). START: undo.
        HELP: answer with the contact of the school that wrote to them last. SYG: a teacher
        reports sick (`steps/message_events.py`). Applied once per provider event however often it
        is delivered."""
        now = self._clock.now()
        with self._uow() as uow:
            if _first_time(uow, f"{sms.provider}:inbound", sms.event_id, now):
                apply_inbound_sms(uow, sms, now)
            uow.commit()
        return sms.keyword


def _first_time(uow: UnitOfWork, provider: str, event_id: str, now: datetime) -> bool:
    return uow.inbox.add(
        InboxEvent(
            id=new_id("ibx"),
            provider=provider,
            event_id=event_id,
            event_type="message",
            received_at=now,
            body=b"",
            status=InboxStatus.PROCESSED,
            processed_at=now,
        )
    )

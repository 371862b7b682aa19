"""What providers tell us about messages: delivery receipts update the message log, opt-outs
and hard bounces go on the suppression list, a STOP/START/HELP reply is answered."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen

from justdriving.domain.delivery import (
    DeliveryReceipt,
    InboundSms,
    Keyword,
    Suppression,
    SuppressionReason,
)
from justdriving.domain.ids import new_id
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.outbox import InboxEvent, InboxStatus
from justdriving.domain.schools import MessageType
from justdriving.domain.services.notifications import queue_message
from justdriving.domain.services.sick_reports import report_sick
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
        reports sick (`sick_reports.py`). Applied once per provider event however often it
        is delivered."""
        now = self._clock.now()
        with self._uow() as uow:
            if _first_time(uow, f"{sms.provider}:inbound", sms.event_id, now):
                apply_inbound_sms(uow, sms, now)
            uow.commit()
        return sms.keyword


def apply_receipt(uow: UnitOfWork, receipt: DeliveryReceipt, now: datetime) -> bool:
    """Record a provider's receipt on our message; False when no message of ours matches."""
    message = _message_for(uow, receipt)
    if message is None:
        return False
    _apply(uow, message, receipt, now)
    return True


def apply_inbound_sms(uow: UnitOfWork, sms: InboundSms, now: datetime) -> None:
    """STOP suppresses the sender, START lifts that, HELP queues the school's contact, SYG
    from a teacher's number does what the teacher's school decided (`SickReport`)."""
    address = sms.sender.e164
    if sms.keyword is Keyword.STOP:
        uow.suppressions.add(
            Suppression(
                id="",
                channel=Channel.SMS,
                address=address,
                reason=SuppressionReason.OPTED_OUT,
                created_at=now,
            )
        )
    elif sms.keyword is Keyword.START:
        found = uow.suppressions.find_key(Channel.SMS.value, address, None)
        if found is not None:
            found.lift(now)
    elif sms.keyword is Keyword.HELP:
        _answer_help(uow, address, now)
    elif sms.keyword is Keyword.SICK:
        report_sick(uow, sms.sender, now)


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


def _message_for(uow: UnitOfWork, receipt: DeliveryReceipt) -> OutboundMessage | None:
    if receipt.provider_message_id is not None:
        found = uow.messages.by_provider_ref(receipt.provider, receipt.provider_message_id)
        if found is not None:
            return found
    return uow.messages.find(receipt.reference) if receipt.reference else None


def _apply(
    uow: UnitOfWork, message: OutboundMessage, receipt: DeliveryReceipt, now: datetime
) -> None:
    if message.status is MessageStatus.QUEUED and receipt.provider_message_id:
        # The send's answer was lost (a timeout), but the provider did send it.
        message.provider, message.provider_message_id = (
            receipt.provider,
            receipt.provider_message_id,
        )
    error = f"{receipt.provider} error {receipt.error_code}" if receipt.error_code else None
    message.record_delivery(receipt.status, receipt.occurred_at, error)
    if receipt.suppress:
        reason = (
            SuppressionReason.OPTED_OUT
            if message.channel is Channel.SMS
            else SuppressionReason.HARD_BOUNCE
        )
        uow.suppressions.add(
            Suppression(
                id="",
                channel=message.channel,
                address=str(message.recipient),
                reason=reason,
                created_at=now,
            )
        )


def _answer_help(uow: UnitOfWork, address: str, now: datetime) -> None:
    last = uow.messages.latest_to(Channel.SMS.value, address)
    if last is None:
        return  # not someone we wrote to: nothing to say on a school's behalf
    school = uow.schools.get(last.school_id)
    students = [
        s for s in uow.students.for_school(school.id) if s.phone and s.phone.e164 == address
    ]
    if not students:
        return
    contact = school.contact_phone or school.contact_email or school.name
    queue_message(
        uow,
        school,
        students[0],
        MessageType.HELP_REPLY,
        {"contact": contact},
        now,
        channels=frozenset({Channel.SMS}),
    )

"""Deciding messages: the channels a message goes out on, written to the outbox, never sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from justdriving.domain.ids import MessageId, new_id
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.people import Student, Teacher
from justdriving.domain.schools import MessageType, School
from justdriving.ports.persistence import UnitOfWork

_KIND = {Channel.SMS: OutboxKind.SEND_SMS, Channel.EMAIL: OutboxKind.SEND_EMAIL}


def queue_message(
    uow: UnitOfWork,
    school: School,
    person: Student | Teacher,
    type: MessageType,
    context: Mapping[str, Any],
    now: datetime,
    channels: frozenset[Channel] = frozenset(Channel),
) -> list[OutboundMessage]:
    """Record the message for each channel the school allows and the person can be reached on.

    Each gets an OutboundMessage (the log) and an outbox row (the work), in the caller's unit
    of work, so they commit or vanish together with the change that caused them.
    """
    settings = school.settings
    language = person.language if isinstance(person, Student) else settings.language
    queued: list[OutboundMessage] = []
    for channel in sorted(channels):
        recipient = person.phone if channel is Channel.SMS else person.email
        allowed = (
            settings.sms_enabled and type in settings.sms_message_types
            if channel is Channel.SMS
            else type in settings.email_message_types
        )
        if recipient is None or not allowed:
            continue
        message = OutboundMessage(
            id=MessageId(new_id("msg")),
            school_id=school.id,
            channel=channel,
            type=type,
            recipient=recipient,
            language=language,
            context={"school_name": school.name, "recipient_name": person.name, **context},
            created_at=now,
        )
        uow.messages.add(message)
        uow.outbox.add(
            OutboxMessage(
                id=new_id("obx"),
                kind=_KIND[channel],
                school_id=school.id,
                payload={"message_id": message.id},
                idempotency_key=message.id,
                created_at=now,
            )
        )
        queued.append(message)
    return queued


def queue_side_effect(
    uow: UnitOfWork,
    school_id: str,
    kind: OutboxKind,
    payload: Mapping[str, Any],
    idempotency_key: str,
    now: datetime,
) -> OutboxMessage:
    """A provider call (capture, cancel, refund, accounting push) to make after commit."""
    message = OutboxMessage(
        id=new_id("obx"),
        kind=kind,
        school_id=school_id,
        payload=dict(payload),
        idempotency_key=idempotency_key,
        created_at=now,
    )
    uow.outbox.add(message)
    return message

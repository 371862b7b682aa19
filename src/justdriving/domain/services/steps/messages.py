"""Deciding messages: the channels a message goes out on, written to the outbox, never sent.

(A provider call to make after commit is an outbox row too: `OutboxMessage.queued`, added to
the unit of work.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from justdriving.domain.ids import MessageId, new_id
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.people import EmailAddress, PhoneNumber, Student, Teacher
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
    *,
    template: str | None = None,
) -> list[OutboundMessage]:
    """Record the message for each channel the school allows and the person can be reached on.

    Each gets an OutboundMessage (the log) and an outbox row (the work), in the caller's unit
    of work, so they commit or vanish together with the change that caused them. A teacher
    without a language of their own is written to in the school's.
    """
    language = person.language or school.settings.language
    queued: list[OutboundMessage] = []
    for channel in sorted(channels):
        recipient = person.phone if channel is Channel.SMS else person.email
        if recipient is None or not school.settings.sends(type, sms=channel is Channel.SMS):
            continue
        values = {"school_name": school.name, "recipient_name": person.name, **context}
        queued.append(
            queue_to_address(uow, school, recipient, type, values, language, now, template=template)
        )
    return queued


def queue_to_address(
    uow: UnitOfWork,
    school: School,
    recipient: PhoneNumber | EmailAddress,
    type: MessageType,
    context: Mapping[str, Any],
    language: str,
    now: datetime,
    *,
    template: str | None = None,
    message_id: MessageId | None = None,
) -> OutboundMessage:
    """One message (the log) and its outbox row (the work) to `recipient`, in the caller's unit
    of work; the channel is the address's (a phone number: SMS)."""
    channel = Channel.SMS if isinstance(recipient, PhoneNumber) else Channel.EMAIL
    message = OutboundMessage(
        id=message_id or MessageId(new_id("msg")),
        school_id=school.id,
        channel=channel,
        type=type,
        recipient=recipient,
        language=language,
        context=dict(context),
        created_at=now,
        template=template,
    )
    uow.messages.add(message)
    # the work: its key is the message's own id, the same on every attempt
    uow.outbox.add(
        OutboxMessage.queued(school.id, _KIND[channel], {"message_id": message.id}, message.id, now)
    )
    return message

"""Operators' queries and maintenance: the outbox, the inbox and the message log.

What the `justdriving outbox|inbox|messages` commands (and any ops tool) call. Recipients are
only ever handed out masked; a full phone number or email address never leaves here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from attrs import frozen

from justdriving.domain.errors import InvalidInput, InvalidTransition
from justdriving.domain.messages import Channel, MessageStatus, OutboundMessage
from justdriving.domain.moments import EARLIEST
from justdriving.domain.outbox import InboxEvent, InboxStatus, OutboxMessage, OutboxStatus
from justdriving.domain.payments import EventOutcome
from justdriving.domain.services.arguments import batch_limit
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory

DEFAULT_LIMIT = 50
REPLAYABLE = (InboxStatus.FAILED, InboxStatus.IGNORED)

T = TypeVar("T")


@frozen
class MessageView:
    """One line of the message log, safe to show: the recipient is masked."""

    id: str
    school_id: str
    type: str
    channel: str
    recipient: str  # masked: +45******56, j***@example.com
    status: MessageStatus
    created_at: datetime
    provider: str | None
    provider_error: str | None
    decisions: tuple[str, ...]
    state: str = ""  # what is true now: the status, or "deferred" for one held back
    template: str = ""  # the template it is rendered from: its type's, or the host's own

    @classmethod
    def of(cls, message: OutboundMessage) -> MessageView:
        return cls(
            id=message.id,
            school_id=message.school_id,
            type=str(message.type),
            channel=str(message.channel),
            recipient=message.recipient.masked(),
            status=message.status,
            created_at=message.created_at,
            provider=message.provider,
            provider_error=message.provider_error,
            decisions=message.decisions,
            state=message.state,
            template=message.template_name,
        )


@frozen
class SentMessage:
    """A message a provider took and has not reported on yet (no recipient)."""

    id: str
    channel: Channel
    provider: str
    provider_message_id: str | None


class Operations:
    """List, retry, replay and purge; `apply_event` applies one stored webhook (the
    payment-webhook use case), `retry_dead` revives one dead outbox row (the relay's)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        retry_dead: Callable[[str], None],
        apply_event: Callable[[str], EventOutcome],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._retry_dead = retry_dead
        self._apply_event = apply_event

    # outbox ----------------------------------------------------------------------------------

    def list_outbox(
        self, status: OutboxStatus | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[OutboxMessage]:
        """Outbox rows, newest first, at most `limit`."""
        with self._uow() as uow:
            found = uow.outbox.list(None if status is None else status.value)
        return _newest(found, lambda row: row.created_at, limit)

    def retry_outbox(self, outbox_id: str) -> OutboxMessage:
        """Give a dead row another try (pending now, attempts reset); its message is queued
        again. Raises NotFound, or InvalidTransition when the row is not dead."""
        with self._uow() as uow:
            status = uow.outbox.get(outbox_id).status
        if status is not OutboxStatus.DEAD:
            raise InvalidTransition("outbox message", status.value, "retry")
        self._retry_dead(outbox_id)
        with self._uow() as uow:
            return uow.outbox.get(outbox_id)

    def purge_sent(self, older_than: timedelta) -> int:
        """Delete the rows sent more than `older_than` ago; returns how many went."""
        if older_than < timedelta(0):
            raise InvalidInput("the age of rows to purge must not be negative")
        now = self._clock.now()
        # Older than the earliest time anything is stored: nothing is that old.
        before = now - older_than if older_than <= now - EARLIEST else EARLIEST
        with self._uow() as uow:
            purged = uow.outbox.purge_sent(before)
            uow.commit()
        return purged

    # inbox -----------------------------------------------------------------------------------

    def list_inbox(
        self, status: InboxStatus | None = None, limit: int = DEFAULT_LIMIT
    ) -> list[InboxEvent]:
        """Stored webhooks, newest first, at most `limit`."""
        _check(limit)
        with self._uow() as uow:
            return list(uow.inbox.recent(limit, None if status is None else status.value))

    def replay_inbox(self, inbox_id: str) -> EventOutcome:
        """Apply a failed or ignored payment webhook again. Raises NotFound, InvalidTransition
        (not failed or ignored, or not a payment event), or what applying it raises (the
        event is then recorded as failed again)."""
        with self._uow() as uow:
            event = uow.inbox.get(inbox_id)
            if event.status not in REPLAYABLE:
                raise InvalidTransition("inbox event", event.status.value, "replay")
            if not event.payload:
                raise InvalidTransition("inbox event", "not a payment event", "replay")
            event.status, event.error = InboxStatus.RECEIVED, None
            uow.commit()
        return self._apply_event(inbox_id)

    # messages --------------------------------------------------------------------------------

    def sent_through(self, providers: frozenset[str]) -> list[SentMessage]:
        """Messages sent through one of `providers` with no delivery report yet (what
        `justdriving run` reports delivered for its simulated senders)."""
        with self._uow() as uow:
            return [
                SentMessage(m.id, m.channel, m.provider, m.provider_message_id)
                for school in uow.schools.list()
                for m in uow.messages.for_school(school.id)
                if m.provider is not None
                and m.provider in providers
                and m.status is MessageStatus.SENT
            ]

    def list_messages(
        self,
        school_id: str | None = None,
        status: MessageStatus | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[MessageView]:
        """The message log, newest first, of one school or all; recipients masked.

        Every school's log, unfiltered, is one bounded query (`recent`); one school's, or a
        status, reads those messages in full (a message's status is only in its document)."""
        _check(limit)
        with self._uow() as uow:
            if school_id is None and status is None:
                return [MessageView.of(message) for message in uow.messages.recent(limit)]
            schools = [school_id] if school_id else [s.id for s in uow.schools.list()]
            if school_id:
                uow.schools.get(school_id)  # NotFound for a school that does not exist
            found = [
                message
                for school in schools
                for message in uow.messages.for_school(school)
                if status is None or message.status is status
            ]
        newest = _newest(found, lambda message: message.created_at, limit)
        return [MessageView.of(message) for message in newest]


def _check(limit: int) -> None:
    batch_limit(limit)


def _newest(found: Sequence[T], when: Callable[[T], datetime], limit: int) -> list[T]:
    _check(limit)
    return sorted(found, key=when, reverse=True)[:limit]

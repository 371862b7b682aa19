"""What providers tell us after sending: delivery receipts, replies, email events, opt-outs."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime

from attrs import define, frozen

from justdriving.domain.entity import Entity
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.people import PhoneNumber


@frozen
class DeliveryReceipt:
    """A provider's word on one message it accepted. `event_id` dedupes repeats (for Twilio,
    MessageSid + status); `reference` is our message id where the provider echoes it."""

    provider: str
    event_id: str
    provider_message_id: str | None
    status: MessageStatus
    occurred_at: datetime
    error_code: str | None = None
    reference: str | None = None
    suppress: bool = False  # the provider says this recipient must not be written to again


class Keyword(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"
    SICK = "sick"  # a teacher reports sick for the day (the school decides what that does)
    NONE = "none"


# Twilio's reserved keywords (case-insensitive, the whole message, surrounding space ignored).
_STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
_START = frozenset({"START", "YES", "UNSTOP"})
_HELP = frozenset({"HELP", "INFO"})
# Ours, not a carrier's: a teacher's whole reply, in Danish or English.
_SICK = frozenset({"SYG", "SICK"})


def keyword_of(body: str) -> Keyword:
    word = body.strip().upper()
    if word in _STOP:
        return Keyword.STOP
    if word in _START:
        return Keyword.START
    if word in _HELP:
        return Keyword.HELP
    if word in _SICK:
        return Keyword.SICK
    return Keyword.NONE


@frozen
class InboundSms:
    provider: str
    event_id: str
    sender: PhoneNumber
    to: str
    body: str
    received_at: datetime

    @property
    def keyword(self) -> Keyword:
        return keyword_of(self.body)


class SuppressionReason(enum.StrEnum):
    OPTED_OUT = "opted_out"  # STOP, or the provider's 21610
    HARD_BOUNCE = "hard_bounce"
    SPAM_COMPLAINT = "spam_complaint"
    UNSUBSCRIBED = "unsubscribed"
    INVALID = "invalid"


@define(eq=False)
class Suppression(Entity):
    """Never send on `channel` to `address` (E.164 or email); for one school, or all (None).
    Lifting one (START) keeps the record, so the history of consent stays."""

    id: str
    channel: Channel
    address: str
    reason: SuppressionReason
    created_at: datetime
    school_id: str | None = None
    lifted_at: datetime | None = None
    version: int = 0

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def lift(self, now: datetime) -> None:
        self.lifted_at = self.lifted_at or now

    def reinstate(self, reason: SuppressionReason, now: datetime) -> None:
        if self.lifted_at is not None:
            self.lifted_at, self.reason, self.created_at = None, reason, now

    @staticmethod
    def key(channel: Channel, address: str, school_id: str | None) -> str:
        return f"{channel.value}:{school_id or '*'}:{address.lower()}"

    @staticmethod
    def in_force(
        find: Callable[[str | None], Suppression | None], school_id: str
    ) -> Suppression | None:
        """The active suppression that stops sending for `school_id`: its own, else the one for
        every school; `find` gives the record of one scope (a school's id, or None)."""
        for scope in (school_id, None):
            found = find(scope)
            if found is not None and found.active:
                return found
        return None

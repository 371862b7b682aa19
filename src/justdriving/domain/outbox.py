"""Outbox and inbox records: side effects waiting to be sent, webhooks waiting to be applied."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field

from justdriving.domain.entity import Entity
from justdriving.domain.ids import new_id


class OutboxKind(enum.StrEnum):
    SEND_SMS = "send_sms"
    SEND_EMAIL = "send_email"
    COMPLETE_PAYMENT = "complete_payment"
    CAPTURE_PAYMENT = "capture_payment"
    CANCEL_PAYMENT = "cancel_payment"
    REFUND_PAYMENT = "refund_payment"
    DELIVER_EVENT = "deliver_event"  # a domain event to the host application's endpoint
    PUSH_ACCOUNTING = "push_accounting"  # records to the school's accounting system
    # An invoice (a fee, a plan's charge, a retry) charged to the student's saved card.
    CHARGE_CUSTOMER = "charge_customer"


TAKEN_OVER = "taken over after its lease ran out"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DEFERRED = "deferred"  # put back untried (quiet hours, throttle, open circuit) until then
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # gave up; visible for a manual retry


@define(eq=False)
class OutboxMessage(Entity):
    """A side effect written in the same transaction as the change that implies it.

    `idempotency_key` is stable across every attempt and is what providers that take one receive.
    """

    id: str
    kind: OutboxKind
    school_id: str
    payload: Mapping[str, Any]
    idempotency_key: str
    created_at: datetime
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    lease_until: datetime | None = None
    claimed_by: str | None = None

    @classmethod
    def queued(
        cls,
        school_id: str,
        kind: OutboxKind,
        payload: Mapping[str, Any],
        idempotency_key: str,
        now: datetime,
        *,
        not_before: datetime | None = None,
    ) -> OutboxMessage:
        """A provider call (capture, cancel, refund, charge, accounting push, a host delivery)
        to make after the commit of the unit of work it is added to (not before `not_before`,
        when given: a charge retried days later)."""
        return cls(
            id=new_id("obx"),
            kind=kind,
            school_id=school_id,
            payload=dict(payload),
            idempotency_key=idempotency_key,
            created_at=now,
            next_attempt_at=not_before,
        )

    def due(self, now: datetime) -> bool:
        """Claimable: waiting and due, or in flight with a lease that ran out (a dead worker)."""
        if self.status is OutboxStatus.IN_FLIGHT:
            return self.lease_until is None or self.lease_until <= now
        waiting = self.status in (OutboxStatus.PENDING, OutboxStatus.DEFERRED, OutboxStatus.FAILED)
        return waiting and (self.next_attempt_at is None or self.next_attempt_at <= now)

    def claim(self, worker: str, now: datetime, lease: timedelta) -> None:
        """Take it for `lease`; if the worker dies, another may claim it after that. Taking
        over a row whose lease ran out is noted: its worker died or stalled mid-attempt, so
        the provider may have done it already (`taken_over`)."""
        if self.status is OutboxStatus.IN_FLIGHT:
            self.last_error = f"{TAKEN_OVER} from {self.claimed_by}: the provider may have it"
        self.status, self.claimed_by, self.lease_until = OutboxStatus.IN_FLIGHT, worker, now + lease

    @property
    def taken_over(self) -> bool:
        """Claimed after another worker's lease ran out, and not tried since."""
        return self.status is OutboxStatus.IN_FLIGHT and (self.last_error or "").startswith(
            TAKEN_OVER
        )

    def held_by(self, worker: str, now: datetime) -> bool:
        return (
            self.status is OutboxStatus.IN_FLIGHT
            and self.claimed_by == worker
            and self.lease_until is not None
            and now < self.lease_until
        )

    def release(self, at: datetime) -> None:
        """Put it back untried until `at` (quiet hours, a throttle, a provider's open
        circuit): deferred, not failed; no attempt is counted."""
        self.status, self.next_attempt_at, self.claimed_by = OutboxStatus.DEFERRED, at, None

    def succeeded(self, now: datetime) -> None:
        self.status, self.sent_at, self.last_error = OutboxStatus.SENT, now, None
        self.attempts += 1

    def retry_later(self, error: str, at: datetime) -> None:
        self.attempts += 1
        self.status, self.next_attempt_at, self.last_error = OutboxStatus.FAILED, at, error

    def give_up(self, error: str) -> None:
        self.attempts += 1
        self.status, self.last_error = OutboxStatus.DEAD, error

    def revive(self, now: datetime) -> None:
        """An operator asked for another try of a dead message."""
        if self.status is OutboxStatus.DEAD:
            self.status, self.next_attempt_at, self.attempts = OutboxStatus.PENDING, now, 0


def backoff(attempt: int, base: timedelta = timedelta(seconds=30)) -> timedelta:
    """Exponential ceiling for attempt n (1-based), capped at six hours; jitter is the relay's."""
    ceiling: timedelta = base * (2 ** max(attempt - 1, 0))
    return min(ceiling, timedelta(hours=6))


class InboxStatus(enum.StrEnum):
    RECEIVED = "received"
    APPLYING = "applying"  # claimed by one worker until its lease runs out
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"
    REJECTED = "rejected"  # signed, but unusable: kept for the record, never applied


MAX_APPLY_ATTEMPTS = 10


@define(eq=False)
class InboxEvent(Entity):
    """A verified webhook, stored before we answer; unique on (provider, event_id).

    Applying it is claimed the way the relay claims an outbox row: one worker holds it until
    `lease_until`; a worker that dies lets another take it over once the lease has run out."""

    id: str
    provider: str
    event_id: str
    event_type: str
    received_at: datetime
    body: bytes = field(repr=False)
    payload: Mapping[str, Any] = field(factory=dict, repr=False)
    status: InboxStatus = InboxStatus.RECEIVED
    attempts: int = 0
    error: str | None = None
    processed_at: datetime | None = None
    lease_until: datetime | None = None
    claimed_by: str | None = None

    @property
    def waiting(self) -> bool:
        return self.status in (InboxStatus.RECEIVED, InboxStatus.FAILED, InboxStatus.APPLYING)

    def due(self, now: datetime) -> bool:
        """Claimable: received, or failed fewer than MAX_APPLY_ATTEMPTS times, or claimed by a
        worker whose lease ran out."""
        if self.status is InboxStatus.APPLYING:
            return self.lease_until is None or self.lease_until <= now
        waiting = self.status in (InboxStatus.RECEIVED, InboxStatus.FAILED)
        return waiting and self.attempts < MAX_APPLY_ATTEMPTS

    def claim(self, worker: str, now: datetime, lease: timedelta) -> None:
        if self.status is InboxStatus.APPLYING and self.claimed_by not in (None, worker):
            self.error = f"{TAKEN_OVER} from {self.claimed_by}"
        self.status, self.claimed_by, self.lease_until = InboxStatus.APPLYING, worker, now + lease

    def held_by(self, worker: str, now: datetime) -> bool:
        return (
            self.status is InboxStatus.APPLYING
            and self.claimed_by == worker
            and self.lease_until is not None
            and now < self.lease_until
        )

    def applied(self, changed: bool, now: datetime, note: str | None = None) -> None:
        """Done: PROCESSED when it changed something, IGNORED when it was old news; `note`
        says why for operators (an account no school has), kept where errors are."""
        self.attempts += 1
        self.status = InboxStatus.PROCESSED if changed else InboxStatus.IGNORED
        taken_over = (self.error or "").startswith(TAKEN_OVER)
        self.processed_at, self.error = now, self.error if taken_over else note
        self.lease_until = None

    def rejected(self, reason: str, now: datetime) -> None:
        """Signed when stored, but unusable once read (stored raw, read by the worker): kept
        for the record with the reason, never applied."""
        self.attempts += 1
        self.status, self.error, self.processed_at = InboxStatus.REJECTED, reason[:500], now
        self.lease_until = None

    def failed(self, error: str) -> None:
        self.attempts += 1
        self.status, self.error = InboxStatus.FAILED, error[:500]
        self.lease_until = None


@define(eq=False)
class SeenToken(Entity):
    """A provider's one-time signature token (Mailgun's `token`) and the event it first carried,
    kept until its signature is too old to pass anyway; `id` is provider + token."""

    id: str
    provider: str
    token: str
    event_id: str
    keep_until: datetime

    @staticmethod
    def key(provider: str, token: str) -> str:
        return f"{provider}:{token}"

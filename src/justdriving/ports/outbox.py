"""The outbox and inbox ports: side effects to perform after commit, provider webhooks received
and worked off, and the one-time webhook tokens every process sees."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from justdriving.domain.outbox import InboxEvent, OutboxMessage


class Outbox(Protocol):
    """Side effects to perform, written in the same unit of work as their cause."""

    def add(self, message: OutboxMessage) -> None: ...

    def get(self, id: str) -> OutboxMessage: ...

    def get_many(self, ids: Sequence[str]) -> Sequence[OutboxMessage]:
        """The rows of `ids`, in that order (NotFound for a missing one), read together with
        whatever recording their outcomes reads (their messages)."""
        ...

    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Claimable rows, oldest first: pending or failed and due, or in flight past their
        lease (their worker died)."""
        ...

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[OutboxMessage]:
        """Claim up to `limit` due rows for `worker` until `lease` runs out. Rows another
        worker is claiming at the same moment are skipped, never shared (PostgreSQL:
        FOR UPDATE SKIP LOCKED; SQLite: one writer at a time). Takes effect on commit."""
        ...

    def list(self, status: str | None = None) -> Sequence[OutboxMessage]: ...

    def counts(self) -> Mapping[str, int]:
        """How many rows there are in each status; a status without rows is left out."""
        ...

    def purge_sent(self, before: datetime) -> int:
        """Delete the rows sent before `before` (status sent); returns how many. Rows in any
        other status are kept, whatever their age."""
        ...


class Inbox(Protocol):
    """Verified webhooks, unique on (provider, event_id)."""

    def add(self, event: InboxEvent) -> bool:
        """Store it; False (and nothing stored) when the same provider event is already in."""
        ...

    def get(self, id: str) -> InboxEvent: ...

    def list(self, status: str | None = None) -> Sequence[InboxEvent]: ...

    def recent(self, limit: int, status: str | None = None) -> Sequence[InboxEvent]:
        """The newest `limit` events (of `status`, if given), newest first (by received_at)."""
        ...

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[InboxEvent]:
        """Claim up to `limit` due events (InboxEvent.due), oldest first, for `worker` until
        `lease` runs out, as Outbox.claim does: rows another worker is claiming at the same
        moment are skipped, never shared. Takes effect on commit."""
        ...


class InboxIntake(Protocol):
    """The inbox's front door for the request path: one new row, stored in its own
    transaction, at the cost of about one INSERT (no unit of work around it)."""

    def put(self, event: InboxEvent) -> bool:
        """Store it and commit; False (nothing stored) when the same (provider, event_id) is
        in already, decided atomically by the database, so concurrent repeats store one row."""
        ...


class WebhookTokens(Protocol):
    """One-time signature tokens, seen by every process that shares the database."""

    def first_use(
        self, provider: str, token: str, event_id: str, keep_until: datetime, now: datetime
    ) -> bool:
        """Remember `token` (with the event it carried) until `keep_until`; False, remembering
        nothing new, when it is remembered already and not yet expired. Takes effect on commit;
        a concurrent first use of the same token waits for it (PostgreSQL) or conflicts."""
        ...

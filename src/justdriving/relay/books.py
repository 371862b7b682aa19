"""The accounting push as outbox work, relayed like an SMS or a capture.

What must reach the books is queued in the transaction that made it (`followups/books.py`). The
relay pushes a `push_accounting` row's records (and what they need that the accounting system
does not hold yet: the contact, the invoice) with the sync's planner, fingerprints and batch
keys, and gives the row its backoff, Retry-After, circuit breaker, lease, dead letter and
operator's retry. A record the provider refuses (or that cannot be pushed: no account code)
gives the row up with the reason; an operator retries it from the ops page once it is fixed.

Each school's rows go to its own books (AccountingBooks), through a circuit of their own. A
row of a school whose books are not reachable (none connected, a revoked grant) waits: it is
put back for NOT_CONNECTED_WAIT, no attempt counted, until the school connects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from justdriving.domain.accounting import SyncRecord
from justdriving.domain.errors import (
    BooksNotConnected,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.outbox import OutboxMessage
from justdriving.domain.services.accounting.books import as_books, configured, uses
from justdriving.domain.services.accounting.documents import Kind, Plan, SchoolBooks, load_books
from justdriving.domain.services.accounting.plan import plan
from justdriving.domain.services.accounting.push import Stopped, SyncPass
from justdriving.domain.services.followups.books import records_of
from justdriving.ports.accounting import AccountingBooks, AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory
from justdriving.relay.messages import Deferred, Job, Prepared

NOT_CONNECTED_WAIT: Final = timedelta(hours=1)  # how often a not-connected school's row looks


class BooksPushes:
    """Prepares a `push_accounting` row for the relay: reads the books in the relay's unit of
    work; the push itself (outside it) commits each batch's sync records as the sync does."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        books: AccountingBooks | AccountingClient | None,
    ) -> None:
        self._uow, self._clock, self._books = uow, clock, as_books(books)

    def prepare(self, uow: UnitOfWork, row: OutboxMessage) -> Prepared:
        """None when there is nothing to push: synced and unchanged already (the planner
        skips those), no such record in the books, or the school keeps them elsewhere;
        Deferred while the school's books are not connected."""
        books = configured(self._books)
        school = uow.schools.get(row.school_id)
        if not uses(school, books):
            return None
        try:
            client = books.for_school(school.id)
        except BooksNotConnected as error:
            return Deferred(self._clock.now() + NOT_CONNECTED_WAIT, str(error))
        held = load_books(uow, school)
        records = {r.id: r for r in uow.sync_records.for_school(client.name, school.id)}
        candidates = plan(held, records, client.name, None, only=records_of(row))
        if not any(candidates.values()):
            return None
        push = partial(self._push, client, held, records, candidates)
        # A circuit per school: one organisation's outage or revoked grant holds no other's.
        return Job(f"accounting:{client.name}:{school.id}", push, _nothing)

    def _push(
        self,
        client: AccountingClient,
        books: SchoolBooks,
        records: dict[str, SyncRecord],
        candidates: Plan,
    ) -> None:
        """Push; an outage is raised as it is (the relay backs off, honouring Retry-After);
        a refused record gives the row up with its reason (ProviderRejected)."""
        push = SyncPass(
            uow=self._uow,
            clock=self._clock,
            client=client,
            books=books,
            records=records,
            dry_run=False,
            retry=None,
            progress=_ignore,
        )
        try:
            for kind in Kind:
                push.push(kind, candidates[kind])
        except Stopped as stop:  # another push of the same records committed first
            raise ProviderUnavailable(client.name, stop.reason) from stop
        if push.tally.failures:
            reasons = "; ".join(f"{record}: {why}" for record, why in push.tally.failures)
            raise ProviderRejected(client.name, f"not in the books: {reasons}")


def _nothing(uow: UnitOfWork, result: Any, now: datetime) -> None:
    """Each batch's outcome is committed to its sync records as soon as the provider answers."""


def _ignore(count: int) -> None:
    """No one watches a relayed push's progress."""

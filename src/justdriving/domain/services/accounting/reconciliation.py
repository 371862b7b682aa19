"""The reconciliation (a periodic job): queues whatever is still not in the books, as the sync
would push it: records made before the push was switched on, changed since, or whose row was
lost; records that already have a row waiting (or given up, for an operator) are left to it.
"""

from __future__ import annotations

from typing import Final

from justdriving.domain.errors import (
    BooksNotConnected,
)
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.services.accounting.books import as_books, configured, uses
from justdriving.domain.services.accounting.documents import Kind, Plan, load_books
from justdriving.domain.services.accounting.plan import plan
from justdriving.domain.services.accounting.push import SyncPass
from justdriving.domain.services.followups.books import Record, queue_push, records_of
from justdriving.ports.accounting import AccountingBooks, AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

ROW_RECORDS: Final = 100  # records in one row queued by the reconciliation


WAITING: Final = (
    OutboxStatus.PENDING,
    OutboxStatus.DEFERRED,  # a school's books not connected yet
    OutboxStatus.IN_FLIGHT,
    OutboxStatus.FAILED,
    OutboxStatus.DEAD,
)


class Reconciliation:
    """Queues what the sync would push and no row is waiting for, school by school."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        books: AccountingBooks | AccountingClient | None,
    ) -> None:
        self._uow, self._clock, self._books = uow, clock, as_books(books)

    def queue_missing(self) -> int:
        """Queue every record missing from the books (in rows of at most ROW_RECORDS) of each
        school that keeps its books in the configured provider and has them connected (the
        others are queued once they connect); how many records were queued. Raises
        ConfigurationError when no provider is configured."""
        books = configured(self._books)
        with self._uow() as uow:
            schools = [s.id for s in uow.schools.list() if uses(s, books)]
        queued = 0
        for school_id in schools:
            try:
                client = books.for_school(school_id)
            except BooksNotConnected:
                continue
            queued += self._school(client, school_id)
        return queued

    def _school(self, client: AccountingClient, school_id: str) -> int:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            books = load_books(uow, school)
            records = {r.id: r for r in uow.sync_records.for_school(client.name, school.id)}
            check = SyncPass(
                uow=self._uow,
                clock=self._clock,
                client=client,
                books=books,
                records=records,
                dry_run=True,
                retry=None,
                progress=_ignore,
            )
            candidates = plan(books, records, client.name, None)
            for kind in Kind:
                check.push(kind, candidates[kind])
            waiting = _covered(candidates, _waiting(uow, school.id))
            missing = [r for r in dict.fromkeys(check.due) if r not in waiting]
            now = self._clock.now()
            for start in range(0, len(missing), ROW_RECORDS):
                queue_push(uow, school.id, missing[start : start + ROW_RECORDS], now)
            uow.commit()
        return len(missing)


def _covered(candidates: Plan, waiting: set[Record]) -> set[Record]:
    """The waiting records and what they need (a payment's invoice and its contact): a row
    pushes what its records need along with them."""
    covered = set(waiting)
    for kind in reversed(Kind):  # credit notes and payments need invoices, which need contacts
        for candidate in candidates[kind]:
            if (kind, candidate.record_id) in covered:
                covered.update(candidate.needs)
    return covered


def _waiting(uow: UnitOfWork, school_id: str) -> set[Record]:
    """The records of the school's push rows not sent yet (given up ones too)."""
    waiting: set[Record] = set()
    for status in WAITING:
        for row in uow.outbox.list(status.value):
            if row.kind is OutboxKind.PUSH_ACCOUNTING and row.school_id == school_id:
                waiting.update(records_of(row))
    return waiting


def _ignore(count: int) -> None:
    """No one watches the reconciliation's dry run."""

"""The in-memory unit of work: working copies, optimistic versions, all-or-nothing commits."""

from __future__ import annotations

import itertools
from types import TracebackType
from typing import Any, Self

from justdriving.adapters.memory import message_records, outbox
from justdriving.adapters.memory import repositories as repos
from justdriving.adapters.memory.store import MemoryStore
from justdriving.adapters.memory.tracking import Table
from justdriving.domain.events import DomainEvent, drain_all
from justdriving.ports.persistence import Repositories

__all__ = ["MemoryStore", "MemoryUnitOfWork", "MemoryUnitOfWorkFactory"]


class MemoryUnitOfWork(Repositories):
    """One use case's transaction against a MemoryStore.

    Reads give deep copies of the committed records; within the unit of work the same id gives
    the same object, and queries see its own additions and changes. `commit` publishes every
    added or changed record at once, or raises (ConcurrencyConflict, or the error injected by
    `MemoryStore.fail_next_commit`) having written nothing. Leaving the `with` block rolls
    back whatever was not committed.
    """

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tables: list[Table[Any]] = []
        self._order = itertools.count()  # one sequence for all tables: the order of tracking
        self.committed = False
        self.schools = repos.MemorySchoolRepository(self._table("schools"))
        self.teachers = repos.MemoryTeacherRepository(self._table("teachers"))
        self.students = repos.MemoryStudentRepository(self._table("students"))
        self.booking_types = repos.MemoryBookingTypeRepository(
            self._table("booking_types", "booking type")
        )
        self.bookings = repos.MemoryBookingRepository(self._table("bookings"))
        self.packages = repos.MemoryPackageRepository(self._table("packages", "package"))
        self.invoices = repos.MemoryInvoiceRepository(self._table("invoices"))
        self.credit_notes = repos.MemoryCreditNoteRepository(
            self._table("credit_notes", "credit note")
        )
        self.numbering = repos.MemoryNumberingRepository(
            self._table("numbering", "invoice numbering")
        )
        self.payments = repos.MemoryPaymentRepository(self._table("payments"))
        self.refunds = repos.MemoryRefundRepository(self._table("refunds"))
        self.deposits = repos.MemoryDepositRepository(self._table("deposits"))
        self.payment_customers = repos.MemoryRepository(
            self._table("payment_customers", "payment customer")
        )
        self.gateway_credentials = repos.MemoryRepository(
            self._table("gateway_credentials", "gateway credentials")
        )
        self.plans = repos.MemoryPlans(self._table("plans", "payment plan"))
        self.disputes = repos.MemoryDisputeRepository(self._table("disputes"))
        self.messages = message_records.MemoryMessageRepository(self._table("messages", "message"))
        self.suppressions = message_records.MemorySuppressions(
            self._table("suppressions", "suppression")
        )
        self.staff_alerts = message_records.MemoryStaffAlerts(
            self._table("staff_alerts", "staff alert")
        )
        self.sync_records = repos.MemorySyncRecords(self._table("sync_records", "sync record"))
        self.sync_runs = repos.MemorySyncRuns(self._table("sync_runs", "sync run"))
        self.grants = repos.MemoryRepository(self._table("grants", "oauth grant"))
        self.outbox = outbox.MemoryOutbox(self._table("outbox", "outbox message"))
        self.inbox = outbox.MemoryInbox(self._table("inbox", "inbox event"))
        self.webhook_tokens = outbox.MemoryWebhookTokens(
            self._table("webhook_tokens", "webhook token")
        )

    def _table(self, name: str, kind: str | None = None) -> Table[Any]:
        table: Table[Any] = Table(self._store, name, kind or name.removesuffix("s"), self._order)
        self._tables.append(table)
        return table

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        writes = {table.name: table.writes() for table in self._tables}
        self._store.commit([write for batch in writes.values() for write in batch])
        for table in self._tables:
            table.published(writes[table.name])
        self.committed = True

    def collect_events(self) -> list[DomainEvent]:
        tracked = sorted(
            (pair for table in self._tables for pair in table.tracked()), key=lambda p: p[0]
        )
        return drain_all(record for _, record in tracked)

    def rollback(self) -> None:
        """Forget everything not committed; later reads start afresh from the store."""
        for table in self._tables:
            table.clear()


class MemoryUnitOfWorkFactory:
    """Makes a fresh MemoryUnitOfWork on the shared store for each use-case call."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)

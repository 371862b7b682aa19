"""The SQL unit of work: one database transaction per use-case call."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, Transaction

from justdriving.adapters.sql.repositories import repositories
from justdriving.adapters.sql.session import TrackedSession
from justdriving.ports.persistence import (
    BookingRepository,
    BookingTypeRepository,
    CreditNoteRepository,
    DepositRepository,
    DisputeRepository,
    Inbox,
    InvoiceRepository,
    MessageRepository,
    NumberingRepository,
    Outbox,
    PackageRepository,
    PaymentRepository,
    RefundRepository,
    SchoolRepository,
    StudentRepository,
    TeacherRepository,
)


class SqlUnitOfWork:
    schools: SchoolRepository
    teachers: TeacherRepository
    students: StudentRepository
    booking_types: BookingTypeRepository
    bookings: BookingRepository
    packages: PackageRepository
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    numbering: NumberingRepository
    payments: PaymentRepository
    refunds: RefundRepository
    deposits: DepositRepository
    disputes: DisputeRepository
    messages: MessageRepository
    outbox: Outbox
    inbox: Inbox

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self._transaction: Transaction | None = None
        self.committed = False

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        self._transaction = self._connection.begin()
        self._session = TrackedSession(self._connection)
        for name, repository in repositories(self._session).items():
            setattr(self, name, repository)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def commit(self) -> None:
        assert self._transaction is not None, "use the unit of work in a with block"
        try:
            self._session.flush()
            self._transaction.commit()
        except BaseException:
            self._transaction.rollback()
            raise
        self._session.published()
        self.committed = True
        assert self._connection is not None
        self._transaction = self._connection.begin()
        self._session = TrackedSession(self._connection)
        for name, repository in repositories(self._session).items():
            setattr(self, name, repository)

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

"""The SQL unit of work: one database transaction per use-case call."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, Transaction

from justdriving.adapters.sql import message_records, outbox, outbox_rows, rows, sealed_rows
from justdriving.adapters.sql import repositories as repos
from justdriving.adapters.sql.session import TrackedSession, WriterBusy
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.domain.events import DomainEvent, drain_all
from justdriving.ports.persistence import Repositories

_WRITE_TRIES = 3


class SqlUnitOfWork(Repositories):
    """One use case's database transaction; its repositories are made afresh with each
    transaction on the connection."""

    def __init__(self, engine: Engine, cipher: TokenCipher | None = None) -> None:
        self._engine = engine
        self._cipher = cipher
        self._connection: Connection | None = None
        self._transaction: Transaction | None = None
        self.committed = False

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        try:
            self._begin()
        except BaseException:
            self._connection.close()
            self._connection = None
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def commit(self) -> None:
        assert self._transaction is not None, "use the unit of work in a with block"
        for attempt in range(_WRITE_TRIES):
            try:
                self._session.flush()
                self._transaction.commit()
                break
            except WriterBusy:
                self._transaction.rollback()
                if self._session.has_written or attempt == _WRITE_TRIES - 1:
                    self._begin()
                    raise
                self._transaction = self._connection_or_fail().begin()
            except BaseException:
                self._transaction.rollback()
                self._begin()
                raise
        self._session.published()
        self.committed = True
        self._transaction = self._connection_or_fail().begin()  # the same records stay tracked
        self._session.has_written = False

    def collect_events(self) -> list[DomainEvent]:
        assert self._connection is not None, "use the unit of work in a with block"
        return drain_all(self._session.items())

    def rollback(self) -> None:
        """Forget everything not committed; later reads start afresh."""
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()
        self._begin()

    def _connection_or_fail(self) -> Connection:
        assert self._connection is not None, "use the unit of work in a with block"
        return self._connection

    def _begin(self) -> None:
        assert self._connection is not None, "use the unit of work in a with block"
        self._transaction = self._connection.begin()
        self._session = TrackedSession(self._connection)
        self._open_repositories(self._session, self._cipher)

    def _open_repositories(self, session: TrackedSession, cipher: TokenCipher | None) -> None:
        """Every repository over `session`; grants' tokens and gateways' secrets sealed by
        `cipher` (none: stored as they are)."""
        self.schools = repos.SqlSchools(session, rows.SCHOOLS)
        self.teachers = repos.SqlTeachers(session, rows.TEACHERS)
        self.students = repos.SqlStudents(session, rows.STUDENTS)
        self.booking_types = repos.SqlBySchool(session, rows.BOOKING_TYPES)
        self.bookings = repos.SqlBookings(session, rows.BOOKINGS)
        self.packages = repos.SqlPackages(session, rows.PACKAGES)
        self.invoices = repos.SqlInvoices(session, rows.INVOICES)
        self.credit_notes = repos.SqlCreditNotes(session, rows.CREDIT_NOTES)
        self.numbering = repos.SqlNumbering(session)
        self.payments = repos.SqlPayments(session, rows.PAYMENTS)
        self.refunds = repos.SqlRefunds(session, rows.REFUNDS)
        self.deposits = repos.SqlDeposits(session, rows.DEPOSITS)
        self.payment_customers = repos.SqlRepository(session, rows.PAYMENT_CUSTOMERS)
        self.plans = repos.SqlPlans(session, rows.PAYMENT_PLANS)
        self.disputes = repos.SqlDisputes(session, rows.DISPUTES)
        self.messages = message_records.SqlMessages(session, rows.MESSAGES)
        self.suppressions = message_records.SqlSuppressions(session, rows.SUPPRESSIONS)
        self.staff_alerts = message_records.SqlStaffAlerts(session, rows.STAFF_ALERTS)
        self.sync_records = repos.SqlSyncRecords(session, rows.SYNC_RECORDS)
        self.sync_runs = repos.SqlSyncRuns(session, rows.SYNC_RUNS)
        self.grants = repos.SqlRepository(session, sealed_rows.sealed_grants(cipher))
        self.gateway_credentials = repos.SqlRepository(
            session, sealed_rows.sealed_credentials(cipher)
        )
        self.outbox = outbox.SqlOutbox(session, outbox_rows.OUTBOX)
        self.inbox = outbox.SqlInbox(session, outbox_rows.INBOX)
        self.webhook_tokens = outbox.SqlWebhookTokens(session)


class SqlUnitOfWorkFactory:
    """Units of work on `engine`. With a `cipher` (ACCOUNTING_TOKEN_KEY), the accounting
    grants' tokens are stored encrypted; without one, as they are."""

    def __init__(self, engine: Engine, cipher: TokenCipher | None = None) -> None:
        self.engine = engine
        self.cipher = cipher

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.cipher)

"""SQL repositories: the queries of each persistence port over a TrackedSession (the shared
SqlRepository, and the aggregates' own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from justdriving.adapters.sql import rows, tables
from justdriving.adapters.sql.rows import RowMapper
from justdriving.adapters.sql.session import TrackedSession
from justdriving.domain.accounting import SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, ReminderWindow
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering, InvoiceStatus
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School

T = TypeVar("T")


class SqlRepository(Generic[T]):
    def __init__(self, session: TrackedSession, mapper: RowMapper[T]) -> None:
        self._session = session
        self._mapper = mapper
        self._table = mapper.table

    def add(self, item: T) -> None:
        self._session.add(self._mapper, item)

    def get(self, id: str) -> T:
        item: T = self._session.get(self._mapper, id)
        return item

    def find(self, id: str) -> T | None:
        item: T | None = self._session.find(self._mapper, id)
        return item

    def _where(self, *conditions: Any, order_by: Any = None) -> list[T]:
        return self._session.select(self._mapper, *conditions, order_by=order_by)

    def _one(self, *conditions: Any) -> T | None:
        found = self._where(*conditions)
        return found[0] if found else None

    def _page(self, conditions: list[Any], order_by: Any, limit: int, offset: int) -> list[T]:
        found: list[T] = self._session.select(
            self._mapper,
            *conditions,
            order_by=order_by,
            limit=max(limit, 0),
            offset=max(offset, 0),
        )
        return found


def _filters(
    c: Any, school_id: str | None, student_id: str | None, statuses: Sequence[str]
) -> list[Any]:
    conditions = []
    if school_id is not None:
        conditions.append(c.school_id == school_id)
    if student_id is not None:
        conditions.append(c.student_id == student_id)
    if statuses:
        conditions.append(c.status.in_([str(s) for s in statuses]))
    return conditions


class SqlSchools(SqlRepository[School]):
    def list(self) -> Sequence[School]:
        return self._where(order_by=self._table.c.id)

    def by_connected_account(self, account_id: str) -> School | None:
        return self._one(self._table.c.connected_account_id == account_id)


class SqlBySchool(SqlRepository[T]):
    def for_school(self, school_id: str) -> Sequence[T]:
        return self._where(self._table.c.school_id == school_id, order_by=self._table.c.id)


class SqlTeachers(SqlBySchool[Teacher]):
    pass


class SqlStudents(SqlBySchool[Student]):
    pass


class SqlBookings(SqlRepository[Booking]):
    def for_teacher_between(
        self, teacher_id: str, start: datetime, end: datetime
    ) -> Sequence[Booking]:
        """Also takes the teacher's row lock until commit, so two bookings for the same
        teacher are checked one after the other (PostgreSQL row lock; SQLite write lock)."""
        teachers = tables.teachers
        self._session.write(
            update(teachers).where(teachers.c.id == teacher_id).values(version=teachers.c.version)
        )
        c = self._table.c
        return self._where(
            c.teacher_id == teacher_id, c.starts_at < end, c.ends_at > start, order_by=c.starts_at
        )

    def starting_between(self, start: datetime, end: datetime) -> Sequence[Booking]:
        c = self._table.c
        return self._where(c.starts_at >= start, c.starts_at < end, order_by=c.starts_at)

    def awaiting_reminder(
        self, now: datetime, windows: Sequence[ReminderWindow]
    ) -> Sequence[Booking]:
        """One statement: a range scan of a partial index (ix_bookings_<channel>_reminder) per
        window, OR-ed, so a tick costs one round trip and maps only the lessons found."""
        if not windows:
            return []
        c = self._table.c
        ranges = []
        for window in windows:
            start = c[f"{window.channel}_reminder_start"]
            schools = sorted(window.school_ids)
            ranges.append(and_(start > now, start <= now + window.ahead, c.school_id.in_(schools)))
        return self._where(or_(*ranges), order_by=(c.starts_at, c.id))


class SqlByStudent(SqlRepository[T]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[T]:
        c = self._table.c
        return self._where(c.school_id == school_id, c.student_id == student_id, order_by=c.id)


class SqlPackages(SqlByStudent[LessonPackage]):
    pass


class SqlInvoices(SqlByStudent[Invoice]):
    def for_booking(self, booking_id: str) -> Sequence[Invoice]:
        return self._where(self._table.c.booking_id == booking_id, order_by=self._table.c.id)

    def overdue(self, now: datetime) -> Sequence[Invoice]:
        c = self._table.c
        unpaid = c.status.in_([InvoiceStatus.OPEN.value, InvoiceStatus.PARTIALLY_PAID.value])
        return self._where(unpaid, c.due_at < now, order_by=c.due_at)

    def recent(
        self,
        limit: int,
        offset: int = 0,
        *,
        school_id: str | None = None,
        student_id: str | None = None,
        statuses: Sequence[str] = (),
        due_from: datetime | None = None,
        due_before: datetime | None = None,
    ) -> Sequence[Invoice]:
        """Drafts first, then ORDER BY issued_at DESC (ix_invoices_issued_at), one page."""
        c = self._table.c
        conditions = _filters(c, school_id, student_id, statuses)
        if due_from is not None:
            conditions.append(or_(c.due_at.is_(None), c.due_at >= due_from))
        if due_before is not None:
            conditions.append(c.due_at < due_before)
        return self._page(
            conditions,
            (c.issued_at.desc().nulls_first(), c.id.desc()),
            limit,
            offset,
        )

    def by_number(self, school_id: str, number: str) -> Invoice | None:
        c = self._table.c
        return self._one(c.school_id == school_id, c.number == number)


class SqlCreditNotes(SqlByStudent[CreditNote]):
    def for_invoice(self, invoice_id: str) -> Sequence[CreditNote]:
        return self._where(self._table.c.invoice_id == invoice_id, order_by=self._table.c.number)


class SqlNumbering:
    def __init__(self, session: TrackedSession) -> None:
        self._session = session

    def for_school(self, school_id: str) -> InvoiceNumbering:
        """The series, created on first use by an insert the database settles: of two first
        invoices issued at once, one waits for the other's series (or, on SQLite, for the
        write lock) and goes on with the next number, never a duplicate."""
        found: InvoiceNumbering | None = self._session.find(rows.NUMBERING, school_id)
        if found is None:
            fresh = InvoiceNumbering(id=school_id)  # type: ignore[arg-type]
            postgres = self._session.connection.dialect.name == "postgresql"
            statement = (
                (postgresql if postgres else sqlite)
                .insert(tables.numbering)
                .values(id=school_id, version=1, **rows.NUMBERING.to_row(fresh))
            )
            self._session.write(statement.on_conflict_do_nothing(index_elements=["id"]))
            found = self._session.get(rows.NUMBERING, school_id)
        return found


class SqlPayments(SqlByStudent[Payment]):
    def by_provider_ref(self, provider: str, provider_payment_id: str) -> Payment | None:
        c = self._table.c
        either = or_(
            c.provider_payment_id == provider_payment_id, c.provider_alias == provider_payment_id
        )
        return self._one(c.provider == provider, either)

    def recent(
        self,
        limit: int,
        offset: int = 0,
        *,
        school_id: str | None = None,
        student_id: str | None = None,
        statuses: Sequence[str] = (),
    ) -> Sequence[Payment]:
        """ORDER BY created_at DESC (ix_payments_created_at), one page."""
        c = self._table.c
        return self._page(
            _filters(c, school_id, student_id, statuses),
            (c.created_at.desc(), c.id.desc()),
            limit,
            offset,
        )


class SqlRefunds(SqlByStudent[Refund]):
    def for_payment(self, payment_id: str) -> Sequence[Refund]:
        return self._where(self._table.c.payment_id == payment_id, order_by=self._table.c.id)

    def by_provider_ref(self, provider_refund_id: str) -> Refund | None:
        return self._one(self._table.c.provider_refund_id == provider_refund_id)


class SqlPlans(SqlByStudent[PaymentPlan]):
    def due(self, before: datetime, limit: int) -> Sequence[PaymentPlan]:
        c = self._table.c
        return self._page([c.next_due_at <= before], (c.next_due_at, c.id), limit, 0)


class SqlDeposits(SqlRepository[Deposit]):
    def for_booking(self, booking_id: str) -> Deposit | None:
        return self._one(self._table.c.booking_id == booking_id)

    def by_payment(self, payment_id: str) -> Deposit | None:
        return self._one(self._table.c.payment_id == payment_id)


class SqlDisputes(SqlRepository[Dispute]):
    def by_provider_ref(self, provider_dispute_id: str) -> Dispute | None:
        return self._one(self._table.c.provider_dispute_id == provider_dispute_id)

    def recent(
        self, limit: int, offset: int = 0, *, school_id: str | None = None
    ) -> Sequence[Dispute]:
        """ORDER BY opened_at DESC (ix_disputes_opened_at), one page."""
        c = self._table.c
        conditions = [c.school_id == school_id] if school_id is not None else []
        return self._page(conditions, (c.opened_at.desc(), c.id.desc()), limit, offset)


class SqlSyncRecords(SqlRepository[SyncRecord]):
    def for_school(self, provider: str, school_id: str) -> Sequence[SyncRecord]:
        c = self._table.c
        return self._where(c.provider == provider, c.school_id == school_id, order_by=c.id)


class SqlSyncRuns(SqlRepository[SyncRun]):
    def latest(self, provider: str, school_id: str, limit: int) -> Sequence[SyncRun]:
        c = self._table.c
        found: list[SyncRun] = self._session.select(
            self._mapper,
            c.provider == provider,
            c.school_id == school_id,
            order_by=c.started_at.desc(),
            limit=limit,
        )
        return found

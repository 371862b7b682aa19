"""SQL repositories: the queries of each persistence port over a TrackedSession."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from justdriving.adapters.sql import rows, tables
from justdriving.adapters.sql.rows import RowMapper
from justdriving.adapters.sql.session import TrackedSession
from justdriving.adapters.sql.token_cipher import TokenCipher
from justdriving.domain.accounting import SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, ReminderWindow
from justdriving.domain.delivery import Suppression
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.errors import NotFound
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering, InvoiceStatus
from justdriving.domain.messages import Channel, OutboundMessage
from justdriving.domain.outbox import (
    MAX_APPLY_ATTEMPTS,
    InboxEvent,
    InboxStatus,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
)
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School
from justdriving.domain.staff_alerts import StaffAlert

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


class SqlMessages(SqlBySchool[OutboundMessage]):
    def by_provider_ref(self, provider: str, provider_message_id: str) -> OutboundMessage | None:
        c = self._table.c
        return self._one(c.provider == provider, c.provider_message_id == provider_message_id)

    def count_sent_to(self, channel: str, address: str, since: datetime) -> int:
        c, address = self._table.c, address.lower()

        def to(message: OutboundMessage) -> bool:  # channel and recipient never change
            return message.channel.value == channel and str(message.recipient).lower() == address

        self._session.flush_where(self._mapper, to)
        query = select(func.count()).where(
            c.channel == channel, c.recipient == address, c.sent_at >= since
        )
        counted: int = self._session.connection.execute(query).scalar_one()
        return counted

    def latest_to(self, channel: str, address: str) -> OutboundMessage | None:
        c = self._table.c
        found = self._where(
            c.channel == channel, c.recipient == address.lower(), order_by=c.created_at.desc()
        )
        return found[0] if found else None

    def recent(self, limit: int) -> Sequence[OutboundMessage]:
        """ORDER BY created_at DESC LIMIT n, over ix_messages_created_at."""
        c = self._table.c
        found: list[OutboundMessage] = self._session.select(
            self._mapper, order_by=(c.created_at.desc(), c.id.desc()), limit=max(limit, 0)
        )
        return found


class SqlSuppressions(SqlRepository[Suppression]):
    def add(self, item: Suppression) -> None:
        item.id = Suppression.key(item.channel, item.address, item.school_id)
        existing = self.find(item.id)
        if existing is None:
            super().add(item)
        else:
            existing.reinstate(item.reason, item.created_at)

    def matching(self, channel: str, address: str, school_id: str) -> Suppression | None:
        for scope in (school_id, None):
            found = self.find_key(channel, address, scope)
            if found is not None and found.active:
                return found
        return None

    def find_key(self, channel: str, address: str, school_id: str | None) -> Suppression | None:
        return self.find(Suppression.key(Channel(channel), address, school_id))


class SqlStaffAlerts(SqlRepository[StaffAlert]):
    def pending(self, limit: int) -> Sequence[StaffAlert]:
        c = self._table.c
        return self._page([c.pending.is_(True)], (c.created_at, c.id), limit, 0)


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


_WAITING = (OutboxStatus.PENDING, OutboxStatus.DEFERRED, OutboxStatus.FAILED)


class SqlOutbox(SqlRepository[OutboxMessage]):
    def due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        return self._due(now, limit, lock=False)

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[OutboxMessage]:
        claimed = self._due(now, limit, lock=True)
        for message in claimed:
            message.claim(worker, now, lease)
        self._with_messages(claimed)
        return claimed

    def get_many(self, ids: Sequence[str]) -> Sequence[OutboxMessage]:
        """One SELECT for the rows (and one for the messages they send)."""
        if not ids:
            return []
        found = {row.id: row for row in self._where(self._table.c.id.in_(ids))}
        missing = [id for id in ids if id not in found]
        if missing:
            raise NotFound(self._mapper.kind, missing[0])
        rows_ = [found[id] for id in ids]
        self._with_messages(rows_)
        return rows_

    def _with_messages(self, claimed: Sequence[OutboxMessage]) -> None:
        """Load the messages the rows send in one SELECT, so that preparing and recording
        each row reads its message from this unit of work instead of querying for it."""
        ids = [
            str(row.payload["message_id"])
            for row in claimed
            if row.kind in (OutboxKind.SEND_SMS, OutboxKind.SEND_EMAIL)
        ]
        if ids:
            self._session.select(rows.MESSAGES, rows.MESSAGES.table.c.id.in_(ids))

    def _due(self, now: datetime, limit: int, *, lock: bool) -> list[OutboxMessage]:
        c = self._table.c
        waiting = and_(
            c.status.in_(
                [
                    s.value
                    for s in (OutboxStatus.PENDING, OutboxStatus.DEFERRED, OutboxStatus.FAILED)
                ]
            ),
            or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        )
        abandoned = and_(
            c.status == OutboxStatus.IN_FLIGHT.value,
            or_(c.lease_until.is_(None), c.lease_until <= now),
        )
        found: list[OutboxMessage] = self._session.select(
            self._mapper,
            or_(waiting, abandoned),
            order_by=c.created_at,
            limit=limit,
            for_update=lock,
        )
        return found

    def list(self, status: str | None = None) -> Sequence[OutboxMessage]:
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        return self._where(*conditions, order_by=c.created_at)

    def counts(self) -> Mapping[str, int]:
        """One GROUP BY status (over ix_outbox_due, whose first column is the status)."""
        self._session.flush()
        c = self._table.c
        query = select(c.status, func.count()).group_by(c.status)
        return {str(status): int(n) for status, n in self._session.connection.execute(query)}

    def purge_sent(self, before: datetime) -> int:
        """One DELETE, in this unit of work's transaction (takes effect on commit)."""
        self._session.flush()
        c = self._table.c
        old_and_sent = and_(c.status == OutboxStatus.SENT.value, c.sent_at < before)
        result = self._session.write(delete(self._table).where(old_and_sent))
        return int(result.rowcount)


class SqlInbox(SqlRepository[InboxEvent]):
    def add(self, event: InboxEvent) -> bool:  # type: ignore[override]
        """Insert unless (provider, event_id) is in already; the database decides, atomically."""
        self._session.flush()
        connection = self._session.connection
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(self._table).values(
            id=event.id, version=1, **rows.INBOX.to_row(event)
        )
        inserted = self._session.write(
            statement.on_conflict_do_nothing(index_elements=["provider", "event_id"]).returning(
                self._table.c.id
            )
        ).first()
        if inserted is None:
            return False
        self._session.adopt(rows.INBOX, event, version=1)
        return True

    def list(self, status: str | None = None) -> Sequence[InboxEvent]:
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        return self._where(*conditions, order_by=c.received_at)

    def recent(self, limit: int, status: str | None = None) -> Sequence[InboxEvent]:
        """ORDER BY received_at DESC LIMIT n, over ix_inbox_received_at (or ix_inbox_status)."""
        c = self._table.c
        conditions = [c.status == status] if status is not None else []
        found: list[InboxEvent] = self._session.select(
            self._mapper,
            *conditions,
            order_by=(c.received_at.desc(), c.id.desc()),
            limit=max(limit, 0),
        )
        return found

    def claim(
        self, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[InboxEvent]:
        """SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite: one writer at a time)."""
        c = self._table.c
        waiting = and_(
            c.status.in_([InboxStatus.RECEIVED.value, InboxStatus.FAILED.value]),
            c.attempts < MAX_APPLY_ATTEMPTS,
        )
        abandoned = and_(
            c.status == InboxStatus.APPLYING.value,
            or_(c.lease_until.is_(None), c.lease_until <= now),
        )
        claimed: list[InboxEvent] = self._session.select(
            self._mapper,
            or_(waiting, abandoned),
            order_by=(c.received_at, c.id),
            limit=max(limit, 0),
            for_update=True,
        )
        for event in claimed:
            event.claim(worker, now, lease)
        return claimed


class SqlWebhookTokens:
    def __init__(self, session: TrackedSession) -> None:
        self._session = session
        self._table = tables.webhook_tokens

    def first_use(
        self, provider: str, token: str, event_id: str, keep_until: datetime, now: datetime
    ) -> bool:
        """One DELETE of what has expired, then INSERT … ON CONFLICT DO NOTHING: the database
        decides which of two processes saw the token first."""
        self._session.flush()
        c = self._table.c
        self._session.write(delete(self._table).where(c.keep_until < now))
        dialect = postgresql if self._session.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(self._table).values(
            provider=provider, token=token, event_id=event_id, keep_until=keep_until
        )
        inserted = self._session.write(
            statement.on_conflict_do_nothing(index_elements=["provider", "token"]).returning(
                c.token
            )
        ).first()
        return inserted is not None


def repositories(session: TrackedSession, cipher: TokenCipher | None = None) -> dict[str, Any]:
    """Every repository over `session`; grants' tokens encrypted by `cipher` (none: as they are)."""
    return {
        "schools": SqlSchools(session, rows.SCHOOLS),
        "teachers": SqlTeachers(session, rows.TEACHERS),
        "students": SqlStudents(session, rows.STUDENTS),
        "booking_types": SqlBySchool(session, rows.BOOKING_TYPES),
        "bookings": SqlBookings(session, rows.BOOKINGS),
        "packages": SqlPackages(session, rows.PACKAGES),
        "invoices": SqlInvoices(session, rows.INVOICES),
        "credit_notes": SqlCreditNotes(session, rows.CREDIT_NOTES),
        "numbering": SqlNumbering(session),
        "payments": SqlPayments(session, rows.PAYMENTS),
        "refunds": SqlRefunds(session, rows.REFUNDS),
        "deposits": SqlDeposits(session, rows.DEPOSITS),
        "payment_customers": SqlRepository(session, rows.PAYMENT_CUSTOMERS),
        "plans": SqlPlans(session, rows.PAYMENT_PLANS),
        "disputes": SqlDisputes(session, rows.DISPUTES),
        "messages": SqlMessages(session, rows.MESSAGES),
        "suppressions": SqlSuppressions(session, rows.SUPPRESSIONS),
        "staff_alerts": SqlStaffAlerts(session, rows.STAFF_ALERTS),
        "sync_records": SqlSyncRecords(session, rows.SYNC_RECORDS),
        "sync_runs": SqlSyncRuns(session, rows.SYNC_RUNS),
        "grants": SqlRepository(session, rows.sealed_grants(cipher)),
        "gateway_credentials": SqlRepository(session, rows.sealed_credentials(cipher)),
        "outbox": SqlOutbox(session, rows.OUTBOX),
        "inbox": SqlInbox(session, rows.INBOX),
        "webhook_tokens": SqlWebhookTokens(session),
    }

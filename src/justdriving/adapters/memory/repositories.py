"""In-memory repositories: the queries of each repository port, over one unit of work's view
(the shared MemoryRepository, and the aggregates' own)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Generic

from justdriving.adapters.memory.tracking import E, Table
from justdriving.domain.accounting import SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, BookingType, ReminderWindow
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.errors import DuplicateRecord
from justdriving.domain.ids import SchoolId
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School


class MemoryRepository(Generic[E]):
    def __init__(self, table: Table[E]) -> None:
        self._table = table

    def add(self, item: E) -> None:
        self._table.add(item)

    def get(self, id: str) -> E:
        return self._table.get(id)

    def find(self, id: str) -> E | None:
        return self._table.find(id)


def _one(found: Sequence[E]) -> E | None:
    return found[0] if found else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _page(newest_first: list[E], limit: int, offset: int) -> list[E]:
    start = max(offset, 0)
    return newest_first[start : start + max(limit, 0)]


def _filtered(
    school_id: str | None, student_id: str | None, statuses: Sequence[str]
) -> Callable[[Invoice | Payment], bool]:
    wanted = {str(s) for s in statuses}

    def matches(record: Invoice | Payment) -> bool:
        return (
            (school_id is None or record.school_id == school_id)
            and (student_id is None or record.student_id == student_id)
            and (not wanted or str(record.status) in wanted)
        )

    return matches


class MemorySchoolRepository(MemoryRepository[School]):
    def list(self) -> Sequence[School]:
        return self._table.select(lambda s: True)

    def by_connected_account(self, account_id: str) -> School | None:
        found = self._table.select(
            lambda s: (
                s.connected_account is not None and s.connected_account.account_id == account_id
            )
        )
        return found[0] if found else None


class MemoryTeacherRepository(MemoryRepository[Teacher]):
    def for_school(self, school_id: str) -> Sequence[Teacher]:
        return self._table.select(lambda t: t.school_id == school_id)


class MemoryStudentRepository(MemoryRepository[Student]):
    def for_school(self, school_id: str) -> Sequence[Student]:
        return self._table.select(lambda s: s.school_id == school_id)


class MemoryBookingTypeRepository(MemoryRepository[BookingType]):
    def for_school(self, school_id: str) -> Sequence[BookingType]:
        return self._table.select(lambda t: t.school_id == school_id)


class MemoryBookingRepository(MemoryRepository[Booking]):
    def for_teacher_between(
        self, teacher_id: str, start: datetime, end: datetime
    ) -> Sequence[Booking]:
        return self._table.select(
            lambda b: b.teacher_id == teacher_id and b.slot.start < end and start < b.slot.end,
            order=lambda b: b.slot.start,
        )

    def starting_between(self, start: datetime, end: datetime) -> Sequence[Booking]:
        """Bookings whose start lies in [start, end), earliest first."""
        return self._table.select(
            lambda b: start <= b.slot.start < end, order=lambda b: b.slot.start
        )

    def awaiting_reminder(
        self, now: datetime, windows: Sequence[ReminderWindow]
    ) -> Sequence[Booking]:
        return self._table.select(
            lambda b: any(window.covers(b, now) for window in windows),
            order=lambda b: (b.slot.start, b.id),
        )


class MemoryPackageRepository(MemoryRepository[LessonPackage]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[LessonPackage]:
        return self._table.select(lambda p: (p.school_id, p.student_id) == (school_id, student_id))


class MemoryInvoiceRepository(MemoryRepository[Invoice]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[Invoice]:
        return self._table.select(lambda i: (i.school_id, i.student_id) == (school_id, student_id))

    def for_booking(self, booking_id: str) -> Sequence[Invoice]:
        return self._table.select(lambda i: i.booking_id == booking_id)

    def overdue(self, now: datetime) -> Sequence[Invoice]:
        return self._table.select(lambda i: i.is_overdue(now), order=lambda i: i.due_at)

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
        def newest(i: Invoice) -> tuple[bool, datetime, str]:
            return (i.issued_at is None, i.issued_at or _EPOCH, i.id)

        def matches(i: Invoice) -> bool:
            not_due = due_from is None or i.due_at is None or i.due_at >= due_from
            due = due_before is None or (i.due_at is not None and i.due_at < due_before)
            return not_due and due and _filtered(school_id, student_id, statuses)(i)

        found = self._table.select(matches, order=newest)
        return _page(list(reversed(found)), limit, offset)

    def by_number(self, school_id: str, number: str) -> Invoice | None:
        return _one(self._table.select(lambda i: (i.school_id, i.number) == (school_id, number)))


class MemoryCreditNoteRepository(MemoryRepository[CreditNote]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[CreditNote]:
        return self._table.select(lambda c: (c.school_id, c.student_id) == (school_id, student_id))

    def for_invoice(self, invoice_id: str) -> Sequence[CreditNote]:
        return self._table.select(lambda c: c.invoice_id == invoice_id)


class MemoryNumberingRepository:
    def __init__(self, table: Table[InvoiceNumbering]) -> None:
        self._table = table

    def for_school(self, school_id: str) -> InvoiceNumbering:
        numbering = self._table.find(school_id)
        if numbering is None:
            numbering = InvoiceNumbering(id=SchoolId(school_id))
            try:
                self._table.add(numbering)
            except DuplicateRecord:  # another unit of work created it just now: use that one
                return self._table.get(school_id)
        return numbering


class MemoryPaymentRepository(MemoryRepository[Payment]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[Payment]:
        return self._table.select(lambda p: (p.school_id, p.student_id) == (school_id, student_id))

    def by_provider_ref(self, provider: str, provider_payment_id: str) -> Payment | None:
        def matches(p: Payment) -> bool:
            ids = (p.provider_payment_id, p.provider_alias)
            return p.provider == provider and provider_payment_id in ids

        return _one(self._table.select(matches))

    def recent(
        self,
        limit: int,
        offset: int = 0,
        *,
        school_id: str | None = None,
        student_id: str | None = None,
        statuses: Sequence[str] = (),
    ) -> Sequence[Payment]:
        found = self._table.select(
            _filtered(school_id, student_id, statuses), order=lambda p: (p.created_at, p.id)
        )
        return _page(list(reversed(found)), limit, offset)


class MemoryRefundRepository(MemoryRepository[Refund]):
    def for_payment(self, payment_id: str) -> Sequence[Refund]:
        return self._table.select(lambda r: r.payment_id == payment_id)

    def for_student(self, school_id: str, student_id: str) -> Sequence[Refund]:
        return self._table.select(lambda r: (r.school_id, r.student_id) == (school_id, student_id))

    def by_provider_ref(self, provider_refund_id: str) -> Refund | None:
        return _one(self._table.select(lambda r: r.provider_refund_id == provider_refund_id))


class MemoryDepositRepository(MemoryRepository[Deposit]):
    def for_booking(self, booking_id: str) -> Deposit | None:
        return _one(self._table.select(lambda d: d.booking_id == booking_id))

    def by_payment(self, payment_id: str) -> Deposit | None:
        return _one(self._table.select(lambda d: d.payment_id == payment_id))


class MemoryDisputeRepository(MemoryRepository[Dispute]):
    def by_provider_ref(self, provider_dispute_id: str) -> Dispute | None:
        return _one(self._table.select(lambda d: d.provider_dispute_id == provider_dispute_id))

    def recent(
        self, limit: int, offset: int = 0, *, school_id: str | None = None
    ) -> Sequence[Dispute]:
        found = self._table.select(
            lambda d: school_id is None or d.school_id == school_id,
            order=lambda d: (d.opened_at, d.id),
        )
        return _page(list(reversed(found)), limit, offset)


class MemoryPlans(MemoryRepository[PaymentPlan]):
    def for_student(self, school_id: str, student_id: str) -> Sequence[PaymentPlan]:
        return self._table.select(lambda p: (p.school_id, p.student_id) == (school_id, student_id))

    def due(self, before: datetime, limit: int) -> Sequence[PaymentPlan]:
        def due(plan: PaymentPlan) -> bool:
            return plan.next_due_at is not None and plan.next_due_at <= before

        found = self._table.select(due, order=lambda p: (p.next_due_at, p.id))
        return found[: max(limit, 0)]


class MemorySyncRecords(MemoryRepository[SyncRecord]):
    def for_school(self, provider: str, school_id: str) -> Sequence[SyncRecord]:
        return self._table.select(
            lambda r: (r.provider, r.school_id) == (provider, school_id), order=lambda r: r.id
        )


class MemorySyncRuns(MemoryRepository[SyncRun]):
    def latest(self, provider: str, school_id: str, limit: int) -> Sequence[SyncRun]:
        runs = self._table.select(
            lambda r: (r.provider, r.school_id) == (provider, school_id),
            order=lambda r: r.started_at,
        )
        return list(reversed(runs))[:limit]

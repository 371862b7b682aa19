"""Repository ports, one per aggregate (the contract all share: justdriving.ports.persistence)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from justdriving.domain.accounting import SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, BookingType, ReminderWindow
from justdriving.domain.delivery import Suppression
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering
from justdriving.domain.messages import OutboundMessage
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import School
from justdriving.domain.staff_alerts import StaffAlert

T = TypeVar("T")


class Repository(Protocol[T]):
    def add(self, item: T) -> None: ...

    def get(self, id: str) -> T: ...

    def find(self, id: str) -> T | None: ...


class SchoolRepository(Repository[School], Protocol):
    def list(self) -> Sequence[School]: ...

    def by_connected_account(self, account_id: str) -> School | None:
        """The school whose connected Stripe account this is (Stripe Connect), if any."""
        ...


class TeacherRepository(Repository[Teacher], Protocol):
    def for_school(self, school_id: str) -> Sequence[Teacher]: ...


class StudentRepository(Repository[Student], Protocol):
    def for_school(self, school_id: str) -> Sequence[Student]: ...


class BookingTypeRepository(Repository[BookingType], Protocol):
    def for_school(self, school_id: str) -> Sequence[BookingType]: ...


class BookingRepository(Repository[Booking], Protocol):
    def for_teacher_between(
        self, teacher_id: str, start: datetime, end: datetime
    ) -> Sequence[Booking]:
        """Bookings of the teacher whose slot overlaps [start, end), whatever their status."""
        ...

    def starting_between(self, start: datetime, end: datetime) -> Sequence[Booking]: ...

    def awaiting_reminder(
        self, now: datetime, windows: Sequence[ReminderWindow]
    ) -> Sequence[Booking]:
        """The bookings some window covers at `now` (`ReminderWindow.covers`), each once,
        earliest start first (then by id). Looked up by what awaits a reminder, not by scanning
        upcoming lessons: the cost follows the lessons found, not the bookings ever made."""
        ...


class PackageRepository(Repository[LessonPackage], Protocol):
    def for_student(self, school_id: str, student_id: str) -> Sequence[LessonPackage]: ...


class InvoiceRepository(Repository[Invoice], Protocol):
    def for_student(self, school_id: str, student_id: str) -> Sequence[Invoice]: ...

    def for_booking(self, booking_id: str) -> Sequence[Invoice]: ...

    def overdue(self, now: datetime) -> Sequence[Invoice]:
        """Open or partly paid invoices, of every school, due before `now`."""
        ...

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
        """One page of invoices (of one school, one student, in one of `statuses`, due at or
        after `due_from` or without a due date, due before `due_before`, if given), newest
        first: drafts (not issued yet) first, then by issue time, then by id."""
        ...

    def by_number(self, school_id: str, number: str) -> Invoice | None: ...


class CreditNoteRepository(Repository[CreditNote], Protocol):
    def for_student(self, school_id: str, student_id: str) -> Sequence[CreditNote]: ...

    def for_invoice(self, invoice_id: str) -> Sequence[CreditNote]: ...


class NumberingRepository(Protocol):
    def for_school(self, school_id: str) -> InvoiceNumbering:
        """The school's series, created at 1 the first time it is asked for."""
        ...


class PaymentRepository(Repository[Payment], Protocol):
    def for_student(self, school_id: str, student_id: str) -> Sequence[Payment]: ...

    def by_provider_ref(self, provider: str, provider_payment_id: str) -> Payment | None:
        """By the provider's id for it, or by the alias the provider also uses."""
        ...

    def recent(
        self,
        limit: int,
        offset: int = 0,
        *,
        school_id: str | None = None,
        student_id: str | None = None,
        statuses: Sequence[str] = (),
    ) -> Sequence[Payment]:
        """One page of payments (filtered as given), newest first (by created_at, then id)."""
        ...


class RefundRepository(Repository[Refund], Protocol):
    def for_payment(self, payment_id: str) -> Sequence[Refund]: ...

    def for_student(self, school_id: str, student_id: str) -> Sequence[Refund]: ...

    def by_provider_ref(self, provider_refund_id: str) -> Refund | None: ...


class PlanRepository(Repository[PaymentPlan], Protocol):
    def for_student(self, school_id: str, student_id: str) -> Sequence[PaymentPlan]: ...

    def due(self, before: datetime, limit: int) -> Sequence[PaymentPlan]:
        """Plans of every school whose next charge falls due at or before `before` (active
        ones: paused, cancelled and completed plans have none), earliest first, then by id."""
        ...


class DepositRepository(Repository[Deposit], Protocol):
    def for_booking(self, booking_id: str) -> Deposit | None: ...

    def by_payment(self, payment_id: str) -> Deposit | None: ...


class DisputeRepository(Repository[Dispute], Protocol):
    def by_provider_ref(self, provider_dispute_id: str) -> Dispute | None: ...

    def recent(
        self, limit: int, offset: int = 0, *, school_id: str | None = None
    ) -> Sequence[Dispute]:
        """One page of disputes (of one school, if given), newest first (by opened_at)."""
        ...


class MessageRepository(Repository[OutboundMessage], Protocol):
    def by_provider_ref(
        self, provider: str, provider_message_id: str
    ) -> OutboundMessage | None: ...

    def for_school(self, school_id: str) -> Sequence[OutboundMessage]: ...

    def count_sent_to(self, channel: str, address: str, since: datetime) -> int:
        """Messages on `channel` handed to a provider for `address` at or after `since`."""
        ...

    def latest_to(self, channel: str, address: str) -> OutboundMessage | None:
        """The newest message decided for `address` on `channel` (whose school it was)."""
        ...

    def recent(self, limit: int) -> Sequence[OutboundMessage]:
        """The newest `limit` messages of every school, newest first (by created_at)."""
        ...


class SuppressionRepository(Protocol):
    def add(self, item: Suppression) -> None:
        """Store it under Suppression.key; the same (channel, address, school) again
        reinstates a lifted one and otherwise changes nothing."""
        ...

    def matching(self, channel: str, address: str, school_id: str) -> Suppression | None:
        """The active suppression that stops sending to `address` for this school (its own,
        or one for every school), if any."""
        ...

    def find_key(self, channel: str, address: str, school_id: str | None) -> Suppression | None:
        """The record for exactly this scope, active or lifted."""
        ...


class StaffAlertRepository(Repository[StaffAlert], Protocol):
    def pending(self, limit: int) -> Sequence[StaffAlert]:
        """Up to `limit` alerts not mailed yet, of every school, oldest first (then by id)."""
        ...


class SyncRecordRepository(Repository[SyncRecord], Protocol):
    def for_school(self, provider: str, school_id: str) -> Sequence[SyncRecord]: ...


class SyncRunRepository(Repository[SyncRun], Protocol):
    def latest(self, provider: str, school_id: str, limit: int) -> Sequence[SyncRun]:
        """Newest first."""
        ...

"""Persistence ports: repositories per aggregate, the outbox and inbox, and the unit of work.

Contract shared by every implementation:
- `get` raises NotFound; `find` returns None. `add` of an id that exists raises DuplicateRecord.
- Changes become visible to other units of work only on `commit`; leaving the `with` block
  without committing rolls everything back (state changes and outbox rows alike).
- `commit` raises ConcurrencyConflict when another unit of work changed one of the same
  aggregates since it was read (optimistic `version`), and then writes nothing.
- `collect_events` takes the domain events recorded by the aggregates the unit of work has
  loaded or added (and still tracks), so the reactions can run before `commit`; a rollback
  forgets those aggregates and their events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self, TypeVar

from justdriving.domain.accounting import OAuthGrant, SyncRecord, SyncRun
from justdriving.domain.bookings import Booking, BookingType, ReminderWindow
from justdriving.domain.delivery import Suppression
from justdriving.domain.deposits import Deposit
from justdriving.domain.disputes import Dispute
from justdriving.domain.events import DomainEvent
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.domain.invoices import CreditNote, Invoice, InvoiceNumbering
from justdriving.domain.messages import OutboundMessage
from justdriving.domain.outbox import InboxEvent, OutboxMessage
from justdriving.domain.packages import LessonPackage
from justdriving.domain.payments import Payment
from justdriving.domain.people import Student, Teacher
from justdriving.domain.plans import PaymentPlan
from justdriving.domain.refunds import Refund
from justdriving.domain.saved_methods import PaymentCustomer
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


class UnitOfWork(Protocol):
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
    payment_customers: Repository[PaymentCustomer]
    gateway_credentials: Repository[GatewayCredentials]  # secrets sealed at rest
    plans: PlanRepository
    disputes: DisputeRepository
    messages: MessageRepository
    suppressions: SuppressionRepository
    staff_alerts: StaffAlertRepository
    sync_records: SyncRecordRepository
    sync_runs: SyncRunRepository
    grants: Repository[OAuthGrant]
    outbox: Outbox
    inbox: Inbox
    webhook_tokens: WebhookTokens

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_events(self) -> list[DomainEvent]:
        """Take (and clear) the events pending on every aggregate loaded or added since the
        unit of work began or last rolled back, in the order the aggregates were first
        tracked; each event is handed out once."""
        ...


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per use-case call."""

    def __call__(self) -> UnitOfWork: ...

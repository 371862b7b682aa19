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

from types import TracebackType
from typing import Protocol, Self

from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.events import DomainEvent
from justdriving.domain.gateway_credentials import GatewayCredentials
from justdriving.domain.saved_methods import PaymentCustomer
from justdriving.ports.outbox import Inbox, InboxIntake, Outbox, WebhookTokens
from justdriving.ports.repositories import (
    BookingRepository,
    BookingTypeRepository,
    CreditNoteRepository,
    DepositRepository,
    DisputeRepository,
    InvoiceRepository,
    MessageRepository,
    NumberingRepository,
    PackageRepository,
    PaymentRepository,
    PlanRepository,
    RefundRepository,
    Repository,
    SchoolRepository,
    StaffAlertRepository,
    StudentRepository,
    SuppressionRepository,
    SyncRecordRepository,
    SyncRunRepository,
    TeacherRepository,
)

__all__ = [
    "BookingRepository",
    "BookingTypeRepository",
    "CreditNoteRepository",
    "DepositRepository",
    "DisputeRepository",
    "Inbox",
    "InboxIntake",
    "InvoiceRepository",
    "MessageRepository",
    "NumberingRepository",
    "Outbox",
    "PackageRepository",
    "PaymentRepository",
    "PlanRepository",
    "RefundRepository",
    "Repositories",
    "Repository",
    "SchoolRepository",
    "StaffAlertRepository",
    "StudentRepository",
    "SuppressionRepository",
    "SyncRecordRepository",
    "SyncRunRepository",
    "TeacherRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebhookTokens",
]


class Repositories:
    """What every unit of work holds, as a base for the implementations: its repositories by
    name and port (UnitOfWork lists them again: a Protocol cannot take them from a class)."""

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

"""The ops page's read-only query: inbox, outbox, messages, accounting runs, payments on hold.

`OpsView(uow).snapshot()` returns plain, already redacted view data: recipients are masked,
errors have phone numbers and email addresses masked and are truncated. It changes nothing.
Its reads are bounded: the newest RECENT inbox events and messages (`recent`), the outbox
counted per status (`counts`, a GROUP BY in SQL), the dead outbox rows, and the latest
RUNS_PER_SCHOOL sync runs per school and provider. Payments held for review are still found by
walking every school's students: a payment's status is kept only inside its stored document,
so there is no query column to select them by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.overpayments import Overpayment
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.services.billing import overpayments_in
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

RECENT = 50
RUNS_PER_SCHOOL = 5
ERROR_LENGTH = 300
ACCOUNTING_PROVIDERS: tuple[str, ...] = ("xero", "quickbooks", "csv", "fake")

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"\+?\d[\d ()-]{5,}\d")


def redact(text: str | None, limit: int = ERROR_LENGTH) -> str | None:
    """Mask email addresses (a***@example.dk) and phone-like digit runs (keep the last two),
    then cut to `limit` characters."""
    if text is None:
        return None
    masked = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    masked = _PHONE.sub(lambda m: "*" * max(len(m.group(0)) - 2, 0) + m.group(0)[-2:], masked)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


@frozen
class InboxRow:
    id: str
    provider: str
    event_type: str
    received_at: datetime
    status: str
    attempts: int
    error: str | None


@frozen
class DeadRow:
    id: str
    kind: str
    school_id: str
    attempts: int
    created_at: datetime
    last_error: str | None


@frozen
class MessageRow:
    id: str
    school_id: str
    created_at: datetime
    recipient: str  # masked
    type: str
    channel: str
    status: str
    provider: str | None
    provider_error: str | None
    decisions: tuple[str, ...]


@frozen
class SyncRunRow:
    id: str
    provider: str
    school_id: str
    school_name: str
    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    pushed: int
    skipped: int
    stopped_early: str | None
    failures: tuple[tuple[str, str], ...]  # (record id, redacted reason)


@frozen
class HeldPaymentRow:
    id: str
    school_id: str
    amount: str
    provider: str | None
    status_at: datetime | None
    reason: str | None
    invoice_id: str | None
    invoice_number: str | None
    invoice_status: str | None


@frozen
class OpsSnapshot:
    inbox: tuple[InboxRow, ...]
    outbox_counts: tuple[tuple[str, int], ...]  # every status, in lifecycle order
    dead: tuple[DeadRow, ...]
    messages: tuple[MessageRow, ...]
    sync_runs: tuple[SyncRunRow, ...]
    held_payments: tuple[HeldPaymentRow, ...]
    overpayments: tuple[Overpayment, ...] = ()

    def count(self, status: str) -> int:
        return dict(self.outbox_counts).get(status, 0)


class OpsView:
    """The read-only use case behind `/ops`."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        accounting_providers: Sequence[str] = ACCOUNTING_PROVIDERS,
    ) -> None:
        self._uow = uow
        self._providers = tuple(accounting_providers)

    def snapshot(self) -> OpsSnapshot:
        with self._uow() as uow:
            return OpsSnapshot(
                inbox=self._inbox(uow),
                outbox_counts=self._outbox_counts(uow),
                dead=self._dead(uow),
                messages=self._messages(uow),
                sync_runs=self._sync_runs(uow),
                held_payments=self._held(uow),
                overpayments=tuple(
                    o for school in uow.schools.list() for o in overpayments_in(uow, school.id)
                ),
            )

    def _inbox(self, uow: UnitOfWork) -> tuple[InboxRow, ...]:
        events = uow.inbox.recent(RECENT)
        return tuple(
            InboxRow(
                e.id,
                e.provider,
                e.event_type,
                e.received_at,
                str(e.status),
                e.attempts,
                redact(e.error),
            )
            for e in events
        )

    def _outbox_counts(self, uow: UnitOfWork) -> tuple[tuple[str, int], ...]:
        counts = uow.outbox.counts()
        return tuple((str(status), counts.get(str(status), 0)) for status in OutboxStatus)

    def _dead(self, uow: UnitOfWork) -> tuple[DeadRow, ...]:
        rows = sorted(uow.outbox.list(str(OutboxStatus.DEAD)), key=lambda r: r.created_at)
        return tuple(
            DeadRow(r.id, str(r.kind), r.school_id, r.attempts, r.created_at, redact(r.last_error))
            for r in rows
        )

    def _messages(self, uow: UnitOfWork) -> tuple[MessageRow, ...]:
        recent = uow.messages.recent(RECENT)
        return tuple(
            MessageRow(
                id=m.id,
                school_id=m.school_id,
                created_at=m.created_at,
                recipient=m.recipient.masked(),
                type=str(m.type),
                channel=str(m.channel),
                status=str(m.status),
                provider=m.provider,
                provider_error=redact(m.provider_error),
                decisions=tuple(redact(d) or "" for d in m.decisions),
            )
            for m in recent
        )

    def _sync_runs(self, uow: UnitOfWork) -> tuple[SyncRunRow, ...]:
        rows: list[SyncRunRow] = []
        for school in uow.schools.list():
            for provider in self._providers:
                for run in uow.sync_runs.latest(provider, school.id, RUNS_PER_SCHOOL):
                    failures = tuple(
                        (record, redact(reason) or "") for record, reason in run.failures
                    )
                    rows.append(
                        SyncRunRow(
                            run.id,
                            run.provider,
                            school.id,
                            school.name,
                            run.started_at,
                            run.finished_at,
                            run.dry_run,
                            run.pushed,
                            run.skipped,
                            redact(run.stopped_early),
                            failures,
                        )
                    )
        return tuple(sorted(rows, key=lambda r: r.started_at, reverse=True))

    def _held(self, uow: UnitOfWork) -> tuple[HeldPaymentRow, ...]:
        rows: list[HeldPaymentRow] = []
        for school in uow.schools.list():
            for student in uow.students.for_school(school.id):
                for payment in uow.payments.for_student(school.id, student.id):
                    if payment.status is not PaymentStatus.HELD_FOR_REVIEW:
                        continue
                    invoice = uow.invoices.find(payment.invoice_id) if payment.invoice_id else None
                    rows.append(
                        HeldPaymentRow(
                            id=payment.id,
                            school_id=school.id,
                            amount=str(payment.amount),
                            provider=payment.provider,
                            status_at=payment.status_at,
                            reason=redact(payment.failure_reason),
                            invoice_id=payment.invoice_id,
                            invoice_number=invoice.number if invoice else None,
                            invoice_status=str(invoice.status) if invoice else None,
                        )
                    )
        return tuple(rows)

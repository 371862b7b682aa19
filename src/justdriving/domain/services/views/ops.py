"""The ops page's read-only query: inbox, outbox, messages, accounting runs and money.

`OpsView(uow, clock, redact=...).snapshot()` returns plain view data: recipients are masked,
and every stored error text (provider errors, policy decisions, sync failures, payment
reasons) passes `redact`, the log redaction the entrypoint gives (secrets gone, phone
numbers and email addresses masked, dates and times left alone), then is cut to
ERROR_LENGTH. It changes nothing. Its reads are bounded: the newest RECENT inbox events and
messages, the outbox counted per status (a GROUP BY in SQL), the dead outbox rows, the latest
RUNS_PER_SCHOOL sync runs per school and provider, and pages of invoices, payments and
disputes (`MoneyView`). Balances and overpayments read each school's students.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import frozen

from justdriving.domain.outbox import OutboxStatus
from justdriving.domain.overpayments import Overpayment
from justdriving.domain.payments import PaymentStatus
from justdriving.domain.services.steps.billing import overpayments_in
from justdriving.domain.services.views.money import MoneyView
from justdriving.domain.services.views.money_rows import (
    OVERDUE,
    BalanceRow,
    DisputeRow,
    InvoiceRow,
    Named,
    PaymentRow,
    Redact,
)
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

RECENT = 50
MONEY_ROWS = 20
RUNS_PER_SCHOOL = 5
ERROR_LENGTH = 300
ACCOUNTING_PROVIDERS: tuple[str, ...] = ("xero", "quickbooks", "csv", "fake")
INVOICE_STATES: tuple[str, ...] = (OVERDUE, "open", "paid", "void")


def _unchanged(text: str) -> str:
    return text


def cut(text: str, limit: int = ERROR_LENGTH) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    status: str  # what is true now: "deferred" for a queued message held back till later
    provider: str | None
    provider_error: str | None
    decisions: tuple[str, ...]
    deferred_until: datetime | None = None


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
    not_connected: bool = False  # the school's books were not reachable: its records wait


@frozen
class SchoolRow:
    id: str
    name: str
    timezone: str
    language: str


@frozen
class MoneySnapshot:
    """The money sections: invoices per state, payments (recent, held, failed), balances
    and disputes; one student's only when `student` is set."""

    invoices: tuple[tuple[str, tuple[InvoiceRow, ...]], ...]  # (state, rows), INVOICE_STATES
    payments: tuple[PaymentRow, ...]
    held: tuple[PaymentRow, ...]
    failed: tuple[PaymentRow, ...]
    balances: tuple[BalanceRow, ...]
    disputes: tuple[DisputeRow, ...]
    student: Named | None = None
    matches: tuple[Named, ...] = ()  # the students a search found (when not exactly one)


@frozen
class OpsSnapshot:
    inbox: tuple[InboxRow, ...]
    outbox_counts: tuple[tuple[str, int], ...]  # every status, in lifecycle order
    dead: tuple[DeadRow, ...]
    messages: tuple[MessageRow, ...]
    sync_runs: tuple[SyncRunRow, ...]
    held_payments: tuple[PaymentRow, ...]
    overpayments: tuple[Overpayment, ...] = ()
    schools: tuple[SchoolRow, ...] = ()
    money: MoneySnapshot | None = None

    def count(self, status: str) -> int:
        return dict(self.outbox_counts).get(status, 0)

    def school(self, school_id: str) -> SchoolRow | None:
        return next((s for s in self.schools if s.id == school_id), None)


class OpsView:
    """The read-only use case behind `/ops`."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        accounting_providers: Sequence[str] = ACCOUNTING_PROVIDERS,
        redact: Redact = _unchanged,
    ) -> None:
        self._uow = uow
        self._providers = tuple(accounting_providers)
        self._redact = redact
        self.money = MoneyView(uow, clock, self._shown)

    def _shown(self, text: str) -> str:
        return cut(self._redact(text))

    def _optional(self, text: str | None) -> str | None:
        return None if text is None else self._shown(text)

    def snapshot(self, student: str | None = None) -> OpsSnapshot:
        """Everything; the money sections narrowed to one student when `student` (an id or a
        part of a name) finds exactly one."""
        money = self.money_snapshot(student)
        held = tuple(self.money.payments(status=PaymentStatus.HELD_FOR_REVIEW.value))
        held = money.held if student is None else held
        with self._uow() as uow:
            schools = tuple(
                SchoolRow(s.id, s.name, s.timezone, s.settings.language) for s in uow.schools.list()
            )
            return OpsSnapshot(
                inbox=self._inbox(uow),
                outbox_counts=self._outbox_counts(uow),
                dead=self._dead(uow),
                messages=self._messages(uow),
                sync_runs=self._sync_runs(uow),
                held_payments=held,
                overpayments=tuple(
                    o for school in schools for o in overpayments_in(uow, school.id)
                ),
                schools=schools,
                money=money,
            )

    def snapshot_schools(self) -> tuple[SchoolRow, ...]:
        with self._uow() as uow:
            return tuple(
                SchoolRow(s.id, s.name, s.timezone, s.settings.language) for s in uow.schools.list()
            )

    def money_snapshot(self, student: str | None = None) -> MoneySnapshot:
        found: list[Named] = self.money.find_students(student) if student else []
        one = found[0] if len(found) == 1 else None
        if student and one is None:  # nobody, or several: say so, show no one's money
            return MoneySnapshot((), (), (), (), (), (), None, tuple(found))
        student_id = one.id if one else None
        money = self.money
        return MoneySnapshot(
            invoices=tuple(
                (state, tuple(money.invoices(student_id=student_id, state=state, limit=MONEY_ROWS)))
                for state in INVOICE_STATES
            ),
            payments=tuple(money.payments(student_id=student_id, limit=MONEY_ROWS)),
            held=tuple(
                money.payments(student_id=student_id, status=PaymentStatus.HELD_FOR_REVIEW.value)
            ),
            failed=tuple(
                money.payments(
                    student_id=student_id, status=PaymentStatus.FAILED.value, limit=MONEY_ROWS
                )
            ),
            balances=tuple(money.balances(student_id=student_id, limit=MONEY_ROWS)),
            disputes=tuple(d for d in money.disputes(limit=MONEY_ROWS) if _of(d, student_id)),
            student=one,
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
                self._optional(e.error),
            )
            for e in events
        )

    def _outbox_counts(self, uow: UnitOfWork) -> tuple[tuple[str, int], ...]:
        counts = uow.outbox.counts()
        return tuple((str(status), counts.get(str(status), 0)) for status in OutboxStatus)

    def _dead(self, uow: UnitOfWork) -> tuple[DeadRow, ...]:
        rows = sorted(uow.outbox.list(str(OutboxStatus.DEAD)), key=lambda r: r.created_at)
        return tuple(
            DeadRow(
                r.id,
                str(r.kind),
                r.school_id,
                r.attempts,
                r.created_at,
                self._optional(r.last_error),
            )
            for r in rows
        )

    def _messages(self, uow: UnitOfWork) -> tuple[MessageRow, ...]:
        return tuple(
            MessageRow(
                id=m.id,
                school_id=m.school_id,
                created_at=m.created_at,
                recipient=m.recipient.masked(),
                type=str(m.type),
                channel=str(m.channel),
                status=m.state,
                provider=m.provider,
                provider_error=self._optional(m.provider_error),
                decisions=tuple(self._shown(d) for d in m.decisions),
                deferred_until=m.deferred_until,
            )
            for m in uow.messages.recent(RECENT)
        )

    def _sync_runs(self, uow: UnitOfWork) -> tuple[SyncRunRow, ...]:
        rows: list[SyncRunRow] = []
        for school in uow.schools.list():
            for provider in self._providers:
                for run in uow.sync_runs.latest(provider, school.id, RUNS_PER_SCHOOL):
                    failures = tuple((record, self._shown(why)) for record, why in run.failures)
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
                            self._optional(run.stopped_early),
                            failures,
                            run.not_connected,
                        )
                    )
        return tuple(sorted(rows, key=lambda r: r.started_at, reverse=True))


def _of(dispute: DisputeRow, student_id: str | None) -> bool:
    return student_id is None or (dispute.student is not None and dispute.student.id == student_id)

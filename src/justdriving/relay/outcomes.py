"""What the relay records of its rows once a call was made (or not): closed, put back until a
time (no attempt spent), retried later with full-jitter exponential backoff (honouring
Retry-After) or given up. A round's outcomes are recorded in one transaction; when that fails,
each row's in a transaction of its own, so that one row never makes the others' sends be made
again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from attrs import define, field

from justdriving.domain.errors import ConcurrencyConflict, JustDrivingError, ProviderUnavailable
from justdriving.domain.outbox import OutboxMessage, backoff
from justdriving.domain.services.staff_alerts import alert_outbox_dead
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory
from justdriving.relay.jobs import MessageLog, PaymentLog
from justdriving.relay.messages import Job

T = TypeVar("T")
# What to record of a row once its call was made (or not): a change and its argument.
Outcome = tuple[Callable[[UnitOfWork, OutboxMessage, Any, "RelayReport"], None], Any]


@define
class RelayReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # a provider's circuit was open: put back, no attempt counted
    errors: list[str] = field(factory=list)

    def add(self, other: RelayReport) -> None:
        """Count `other` (one row's report) in this one."""
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.deferred += other.deferred
        self.errors.extend(other.errors)


class Outcomes:
    """The changes the relay makes to its rows, and their recording: give up after
    `max_attempts` tries or once a row is older than `give_up_after`."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        max_attempts: int,
        give_up_after: timedelta,
        jitter: Callable[[], float],
    ) -> None:
        self._uow, self._clock = uow, clock
        self._max_attempts, self._give_up_after = max_attempts, give_up_after
        self._jitter = jitter

    def record(self, outcomes: list[tuple[str, Outcome]], report: RelayReport) -> None:
        """Every outcome in one transaction; when that fails (a record changed concurrently,
        one outcome's recording failed), each in a transaction of its own, so that one row
        never makes the others' sends be made again."""
        if not outcomes:
            return
        batch = RelayReport()
        try:
            with self._uow() as uow:
                rows = uow.outbox.get_many([outbox_id for outbox_id, _ in outcomes])
                for row, (_, (change, argument)) in zip(rows, outcomes, strict=True):
                    change(uow, row, argument, batch)
                uow.commit()
        except Exception:
            failed: Exception | None = None
            for outbox_id, (change, argument) in outcomes:
                try:
                    self.finish(outbox_id, change, argument, report)
                except Exception as error:
                    failed = failed or error
            if failed is not None:
                raise failed from None
            return
        report.add(batch)

    def finish(
        self,
        outbox_id: str,
        change: Callable[[UnitOfWork, OutboxMessage, T, RelayReport], None],
        argument: T,
        report: RelayReport,
        tries: int = 3,
    ) -> None:
        """Apply `change` to the row and commit; a concurrent change of the same records is
        retried on fresh copies."""
        for attempt in range(tries):
            try:
                with self._uow() as uow:
                    change(uow, uow.outbox.get(outbox_id), argument, report)
                    uow.commit()
                return
            except ConcurrencyConflict:
                if attempt == tries - 1:
                    raise

    def close(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        done: tuple[Job, Any] | None,
        report: RelayReport,
    ) -> None:
        if done is not None:
            job, result = done
            job.record(uow, result, self._clock.now())
        row.succeeded(self._clock.now())
        report.sent += 1

    def release(
        self, uow: UnitOfWork, row: OutboxMessage, resume_at: datetime, report: RelayReport
    ) -> None:
        row.release(resume_at)
        report.deferred += 1

    def retry_or_bury(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        error: ProviderUnavailable,
        report: RelayReport,
    ) -> None:
        too_old = self._clock.now() - row.created_at >= self._give_up_after
        if too_old or row.attempts + 1 >= self._max_attempts:
            self.bury(uow, row, error, report)
            return
        if error.possibly_done:
            MessageLog.ambiguous(uow, row, error)
        delay = backoff(row.attempts + 1).total_seconds() * self._jitter()
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        row.retry_later(describe(error), self._clock.now() + timedelta(seconds=delay))
        report.retried += 1

    def bury(
        self, uow: UnitOfWork, row: OutboxMessage, error: JustDrivingError, report: RelayReport
    ) -> None:
        row.give_up(describe(error))
        report.dead += 1
        report.errors.append(f"{row.kind} {row.id}: {describe(error)}")
        MessageLog.gave_up(uow, row, error, self._clock.now())
        PaymentLog.gave_up(uow, row, error, self._clock.now())
        alert_outbox_dead(uow, row, self._clock.now())


def describe(error: Exception) -> str:
    """Error text for the outbox row: our own wording and the provider's code, never a raw
    response body (which may hold personal data)."""
    code = getattr(error, "provider_code", None)
    suffix = f" [{code}]" if code else ""
    return f"{type(error).__name__}{suffix}: {error}"[:500]

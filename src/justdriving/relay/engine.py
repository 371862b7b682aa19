"""The relay: performs due outbox work through the ports, at least once, with backoff.

Each row goes through three steps, none holding a transaction open during a provider call:
claim it (with a lease), prepare the call from the database, make the call, then record the
outcome. Up to `RelayPolicy.in_flight` rows of a claimed batch (RELAY_IN_FLIGHT) are worked
at once, each on a thread of its own with its own units of work, so a worker process's
concurrency is not one send at a time. Every attempt uses the row's stable idempotency key. A
worker killed between the provider's answer and the final commit leaves the row claimed; when
the lease runs out another worker claims and sends it again, with the same key. Transient
failures are retried with full-jitter exponential backoff (honouring Retry-After); permanent
ones are not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from attrs import define, field, frozen

from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import (
    BooksNotConnected,
    ConcurrencyConflict,
    JustDrivingError,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage, backoff
from justdriving.domain.services.accounting.books import as_books
from justdriving.domain.services.arguments import batch_limit
from justdriving.domain.services.charges import CustomerCharges
from justdriving.domain.services.staff_alerts import alert_outbox_dead
from justdriving.ports.accounting import AccountingBooks, AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.documents import InvoicePdf, PayLinks
from justdriving.ports.host_events import HostEventSender
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory
from justdriving.relay.books import NOT_CONNECTED_WAIT, BooksPushes
from justdriving.relay.circuit import CircuitBreaker
from justdriving.relay.jobs import MessageLog, PaymentLog, Preparers
from justdriving.relay.messages import Deferred, Job, MessageJobs

T = TypeVar("T")


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


@frozen
class RelayPolicy:
    """Give up after `max_attempts` tries or once a row is older than `give_up_after`;
    `in_flight`: how many rows of a claimed batch are worked at once (1: one after another, in
    the order claimed, as a single thread does)."""

    max_attempts: int = 8
    give_up_after: timedelta = timedelta(days=3)
    lease: timedelta = timedelta(seconds=120)
    batch: int = 100
    in_flight: int = 1


class Relay:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        sms: SmsSender,
        email: EmailSender,
        renderer: TemplateRenderer,
        gateways: GatewayRegistry,
        policy: RelayPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        jitter: Callable[[], float] = random.random,
        worker: str | None = None,
        delivery: DeliveryPolicy | None = None,
        invoice_pdf: InvoicePdf | None = None,
        host_events: HostEventSender | None = None,
        accounting: AccountingClient | AccountingBooks | None = None,
        pay_links: PayLinks | None = None,
    ) -> None:
        self._uow, self._clock = uow, clock
        messages = MessageJobs(
            sms=sms,
            email=email,
            renderer=renderer,
            policy=delivery or DeliveryPolicy(),
            clock=clock,
            invoice_pdf=invoice_pdf,
            pay_links=pay_links,
        )
        books = BooksPushes(uow, clock, as_books(accounting))
        self._prepare = Preparers(
            messages=messages,
            gateways=gateways,
            books=books,
            charges=CustomerCharges(uow, clock, gateways),
            host_events=host_events,
        )
        self._policy = policy or RelayPolicy()
        self._breaker = breaker or CircuitBreaker(clock)
        self._jitter = jitter
        self.worker = worker or new_id("relay")

    def run_once(self, limit: int | None = None) -> RelayReport:
        """Claim a batch of due rows and work through them."""
        report = RelayReport()
        batch = self._policy.batch if limit is None else batch_limit(limit)
        claimed = self.claim(batch)
        report.claimed = len(claimed)
        if self._policy.in_flight <= 1 or len(claimed) <= 1:
            for outbox_id in claimed:
                self.relay(outbox_id, report)
            return report
        with ThreadPoolExecutor(
            max_workers=min(self._policy.in_flight, len(claimed)),
            thread_name_prefix=f"{self.worker}-send",
        ) as pool:
            done = list(pool.map(self._relay_alone, claimed))
        for row_report in done:  # in the order claimed
            report.add(row_report)
        return report

    def _relay_alone(self, outbox_id: str) -> RelayReport:
        """One row of a batch worked on a thread of its own, with a report of its own."""
        report = RelayReport()
        self.relay(outbox_id, report)
        return report

    def retry_dead(self, outbox_id: str) -> None:
        """An operator's second chance for a row that was given up."""
        now = self._clock.now()
        with self._uow() as uow:
            row = uow.outbox.get(outbox_id)
            row.revive(now)
            if row.kind in (OutboxKind.SEND_SMS, OutboxKind.SEND_EMAIL):
                uow.messages.get(row.payload["message_id"]).requeue(now)
            uow.commit()

    def claim(self, limit: int) -> list[str]:
        now = self._clock.now()
        try:
            with self._uow() as uow:
                claimed = uow.outbox.claim(self.worker, now, self._policy.lease, limit)
                ids = [m.id for m in claimed]
                uow.commit()
        except ConcurrencyConflict:
            return []  # another relay claimed the same rows first; next round
        return ids

    def relay(self, outbox_id: str, report: RelayReport, claimant: str | None = None) -> None:
        """Prepare, perform and record one row claimed by `claimant` (this relay by default;
        a task queue passes the claim on to the task that does the work)."""
        now = self._clock.now()
        with self._uow() as uow:
            row = uow.outbox.get(outbox_id)
            if not row.held_by(claimant or self.worker, now):
                return  # our lease ran out and another worker has it
            try:
                job = self._prepare(uow, row)
            except JustDrivingError as error:
                self._bury(uow, row, error, report)
                uow.commit()
                return
            if job is not None and row.taken_over:  # a dead worker's send may have gone out
                MessageLog.taken_over(uow, row)
            if job is None:  # done already, or suppressed by the delivery policy: close it
                self._close(uow, row, None, report)
            elif isinstance(job, Deferred):  # quiet hours or throttle: later, no attempt spent
                self._release(uow, row, job.until, report)
            uow.commit()  # with the policy's decisions noted on the message
        if not isinstance(job, Job):
            return
        resume_at = self._breaker.open_until(job.provider)
        if resume_at is not None:
            self._finish(outbox_id, self._release, resume_at, report)
            return
        self._perform(outbox_id, job, report)

    def _perform(self, outbox_id: str, job: Job, report: RelayReport) -> None:
        try:
            result = job.perform()
        except ProviderUnavailable as unavailable:
            self._breaker.failed(job.provider)
            self._finish(outbox_id, self._retry_or_bury, unavailable, report)
        except BooksNotConnected:  # a school's grant refused: its rows wait for it to reconnect
            later = self._clock.now() + NOT_CONNECTED_WAIT
            self._finish(outbox_id, self._release, later, report)
        except JustDrivingError as refused:
            self._finish(outbox_id, self._bury, refused, report)
        else:
            self._breaker.succeeded(job.provider)
            self._finish(outbox_id, self._close, (job, result), report)

    def _close(
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

    def _finish(
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

    def _release(
        self, uow: UnitOfWork, row: OutboxMessage, resume_at: datetime, report: RelayReport
    ) -> None:
        row.release(resume_at)
        report.deferred += 1

    def _retry_or_bury(
        self,
        uow: UnitOfWork,
        row: OutboxMessage,
        error: ProviderUnavailable,
        report: RelayReport,
    ) -> None:
        too_old = self._clock.now() - row.created_at >= self._policy.give_up_after
        if too_old or row.attempts + 1 >= self._policy.max_attempts:
            self._bury(uow, row, error, report)
            return
        if error.possibly_done:
            MessageLog.ambiguous(uow, row, error)
        delay = backoff(row.attempts + 1).total_seconds() * self._jitter()
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        row.retry_later(describe(error), self._clock.now() + timedelta(seconds=delay))
        report.retried += 1

    def _bury(
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

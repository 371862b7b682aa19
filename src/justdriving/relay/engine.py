"""The relay: performs due outbox work through the ports, at least once, with backoff.

A relay works in rounds of up to `RelayPolicy.in_flight` rows (RELAY_IN_FLIGHT), none holding
a transaction open during a provider call: one transaction claims the rows (with a lease) and
prepares each call from the database, the calls are made at once (each on a thread of the
relay's pool), and one more transaction records every outcome. Claiming no more than it sends
at once leaves the rest of a burst to the other relays. Every attempt uses the row's stable
idempotency key. A worker killed between the provider's answers and the recording commit
leaves its round's rows claimed; when the lease runs out another worker claims and sends them
again, with the same keys (the one duplicate window: the rows in hand). Transient failures are
retried with full-jitter exponential backoff (honouring Retry-After); permanent ones are not.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta

from attrs import define, field, frozen

from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import (
    BooksNotConnected,
    ConcurrencyConflict,
    JustDrivingError,
    ProviderUnavailable,
)
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage
from justdriving.domain.services.accounting.books import as_books
from justdriving.domain.services.arguments import batch_limit
from justdriving.domain.services.charges import CustomerCharges
from justdriving.ports.accounting import AccountingBooks, AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.documents import InvoicePdf, PayLinks
from justdriving.ports.host_events import HostEventSender
from justdriving.ports.messaging import EmailSender, SmsSender, TemplateRenderer
from justdriving.ports.payments import GatewayRegistry
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory
from justdriving.relay.books import NOT_CONNECTED_WAIT, BooksPushes
from justdriving.relay.circuit import CircuitBreaker
from justdriving.relay.jobs import MessageLog, Preparers
from justdriving.relay.messages import Deferred, Job, MessageJobs, Prepared
from justdriving.relay.outcomes import Outcome, Outcomes, RelayReport
from justdriving.relay.pool import SendPool

# RelayReport lives in relay/outcomes.py; it is named here too, beside the relay that fills it.
__all__ = ["PreparedBatch", "Relay", "RelayPolicy", "RelayReport"]

log = logging.getLogger("justdriving.relay")


@define
class PreparedBatch:
    """Rows claimed and prepared in one transaction: the calls to make, by outbox row."""

    jobs: list[tuple[str, Job]] = field(factory=list)
    report: RelayReport = field(factory=lambda: RelayReport())


@frozen
class RelayPolicy:
    """Give up after `max_attempts` tries or once a row is older than `give_up_after`;
    `batch`: at most this many rows per `run_once`; `in_flight`: how many rows are claimed
    together and worked at once (1: one after another, in the order claimed)."""

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
        self._outcomes = Outcomes(
            uow,
            clock,
            max_attempts=self._policy.max_attempts,
            give_up_after=self._policy.give_up_after,
            jitter=jitter,
        )
        self.worker = worker or new_id("relay")
        self._sends = SendPool(self._policy.in_flight, self.worker)

    def close(self) -> None:
        """Let the relay's sending threads end (they are kept between batches)."""
        self._sends.close()

    def run_once(self, limit: int | None = None) -> RelayReport:
        """Relay up to `limit` due rows (the policy's batch), `in_flight` at a time: each round
        claims and prepares that many in one transaction, sends them at once and records
        their outcomes in one more. Claiming no more than it sends at once leaves the rest of
        a burst to the other relays. Stops early when fewer rows were due than asked for."""
        report = RelayReport()
        total = self._policy.batch if limit is None else batch_limit(limit)
        while report.claimed < total:
            wanted = min(self._policy.in_flight, total - report.claimed)
            if self._round(wanted, report) < wanted:
                break
        return report

    def _round(self, wanted: int, report: RelayReport) -> int:
        """Claim, prepare, send and record up to `wanted` rows; how many were claimed."""
        try:
            batch = self._claim_prepared(wanted)
        except ConcurrencyConflict:
            return 0  # another relay changed the same records first; next round
        except Exception:
            # One row's preparation failed unexpectedly and took the batch's transaction with
            # it: claim the rows again and work each alone, so that only its row is held up.
            log.exception("relay: a batch could not be prepared; one row at a time")
            return self._one_at_a_time(wanted, report)
        report.add(batch.report)
        sent = self._sends.map(self._send_caught, batch.jobs)
        self._outcomes.record([done for done in sent if not isinstance(done, Exception)], report)
        for failed in sent:  # unexpected: raised once the other rows' outcomes are recorded
            if isinstance(failed, Exception):
                raise failed
        return batch.report.claimed

    def _claim_prepared(self, wanted: int) -> PreparedBatch:
        """One transaction: claim up to `wanted` due rows and prepare each (rows with nothing
        to send are closed, deferred or given up here)."""
        batch = PreparedBatch()
        now = self._clock.now()
        with self._uow() as uow:
            for row in uow.outbox.claim(self.worker, now, self._policy.lease, wanted):
                batch.report.claimed += 1
                job = self._prepared(uow, row, batch.report)
                if isinstance(job, Job):
                    batch.jobs.append((row.id, job))
            uow.commit()
        return batch

    def _one_at_a_time(self, wanted: int, report: RelayReport) -> int:
        claimed = self.claim(wanted)
        report.claimed += len(claimed)
        for row_report in self._sends.map(self._relay_alone, claimed):
            report.add(row_report)
        return len(claimed)

    def _relay_alone(self, outbox_id: str) -> RelayReport:
        """One row worked on its own, with a report of its own."""
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
            job = self._prepared(uow, row, report)
            uow.commit()  # with the policy's decisions noted on the message
        if isinstance(job, Job):
            change, argument = self._send(job)
            self._outcomes.finish(outbox_id, change, argument, report)

    def _send_caught(self, claimed: tuple[str, Job]) -> tuple[str, Outcome] | Exception:
        outbox_id, job = claimed
        try:
            return outbox_id, self._send(job)
        except Exception as error:  # a bug, say: the batch's other outcomes are still recorded
            return error

    def _send(self, job: Job) -> Outcome:
        """Make the call, unless its provider's circuit is open; what to record of it."""
        resume_at = self._breaker.open_until(job.provider)
        if resume_at is not None:
            return self._outcomes.release, resume_at
        try:
            result = job.perform()
        except ProviderUnavailable as unavailable:
            self._breaker.failed(job.provider)
            return self._outcomes.retry_or_bury, unavailable
        except BooksNotConnected:  # a school's grant refused: its rows wait for it to reconnect
            return self._outcomes.release, self._clock.now() + NOT_CONNECTED_WAIT
        except JustDrivingError as refused:
            return self._outcomes.bury, refused
        self._breaker.succeeded(job.provider)
        return self._outcomes.close, (job, result)

    def _prepared(self, uow: UnitOfWork, row: OutboxMessage, report: RelayReport) -> Prepared:
        """The row's job; a row with nothing to send is closed, deferred or given up here."""
        try:
            job = self._prepare(uow, row)
        except JustDrivingError as error:
            self._outcomes.bury(uow, row, error, report)
            return None
        if job is not None and row.taken_over:  # a dead worker's send may have gone out
            MessageLog.taken_over(uow, row)
        if job is None:  # done already, or suppressed by the delivery policy: close it
            self._outcomes.close(uow, row, None, report)
        elif isinstance(job, Deferred):  # quiet hours or throttle: later, no attempt spent
            self._outcomes.release(uow, row, job.until, report)
        return job

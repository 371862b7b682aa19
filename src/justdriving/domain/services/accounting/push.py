"""One sync run's pushes, kind by kind, in batches; each batch's results are committed to the
sync records right after its call, so a crash loses at most the batch in flight, whose replay
(same records, same fingerprints, same idempotency key) the provider absorbs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from attrs import define, field, frozen

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingPayment,
    PushResult,
    SyncRecord,
    SyncStatus,
)
from justdriving.domain.errors import ConcurrencyConflict, ProviderRejected, ProviderUnavailable
from justdriving.domain.services.accounting.documents import (
    Candidate,
    Kind,
    Payload,
    RecordProblem,
    SchoolBooks,
    batch_key,
    fingerprint,
)
from justdriving.ports.accounting import AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

DAILY_LIMIT = "daily_limit"  # ProviderUnavailable.provider_code: stop until the next run
P = TypeVar("P")


class Stopped(Exception):
    """The provider takes no more now (its daily limit, an outage): keep what was done."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@frozen
class RetryPolicy:
    """A batch refused as unavailable is tried `attempts` times in all, waiting the provider's
    Retry-After (or 1, 2, 4 … seconds), never longer than `longest_wait`."""

    attempts: int = 4
    longest_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def wait(self, attempt: int, retry_after: float | None) -> None:
        wanted = retry_after if retry_after is not None else float(2 ** (attempt - 1))
        self.sleep(min(max(wanted, 0.0), self.longest_wait))


@frozen
class _Ready:
    candidate: Candidate
    payload: Payload
    fingerprint: str
    previous: str | None  # the fingerprint last pushed
    version: int  # of its sync record: moves on with every outcome we commit


@define
class Tally:
    pushed: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(factory=list)


class SyncPass:
    """Pushes a run's candidates. Implements References: contacts by our id, invoices by the
    provider's id (a placeholder for one that only a dry run would push)."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        client: AccountingClient,
        books: SchoolBooks,
        records: dict[str, SyncRecord],
        dry_run: bool,
        retry: RetryPolicy | None,
        progress: Callable[[int], None],
    ) -> None:
        """`retry` None: an outage is not waited out here but raised (ProviderUnavailable) to
        the caller, the relay, which tries the outbox row again later."""
        self._uow, self._clock, self._client = uow, clock, client
        self._books, self._records, self._dry_run = books, records, dry_run
        self._retry, self._progress = retry, progress
        self._would_push: set[tuple[Kind, str]] = set()
        self._problems: list[tuple[Candidate, str]] = []
        self.tally = Tally()
        self.due: list[tuple[Kind, str]] = []  # would be pushed, or failed: not in the books

    def contact(self, contact_id: str) -> str:
        return contact_id

    def invoice(self, invoice_id: str) -> str:
        record = self._record(Kind.INVOICE, invoice_id)
        if record is not None and record.external_id:
            return record.external_id
        return f"(new invoice {invoice_id})"  # dry run only: the provider names it when pushed

    def push(self, kind: Kind, candidates: Sequence[Candidate]) -> None:
        ready = [r for r in map(self._prepare, candidates) if r is not None]
        self._store_problems(kind)
        for start in range(0, len(ready), self._client.max_batch):
            self._push_batch(kind, ready[start : start + self._client.max_batch])

    def _prepare(self, candidate: Candidate) -> _Ready | None:
        missing = [need for need in candidate.needs if not self._available(*need)]
        if missing:
            kind, record_id = missing[0]
            self._fail(candidate, f"skipped: its {kind} {record_id} did not sync")
            return None
        try:
            payload = candidate.build(self)
        except RecordProblem as problem:
            self._fail(candidate, str(problem))
            return None
        printed = fingerprint(payload)
        record = self._record(candidate.kind, candidate.record_id)
        previous = None if record is None else record.fingerprint
        if record is not None and record.status is SyncStatus.SYNCED and previous == printed:
            self.tally.skipped += 1
            self._progress(1)
            return None
        return _Ready(candidate, payload, printed, previous, record.version if record else 0)

    def _available(self, kind: Kind, record_id: str) -> bool:
        record = self._record(kind, record_id)
        if record is not None and record.status is SyncStatus.SYNCED and record.external_id:
            return True
        return (kind, record_id) in self._would_push

    def _fail(self, candidate: Candidate, reason: str) -> None:
        self.due.append((candidate.kind, candidate.record_id))
        self.tally.failures.append((candidate.record_id, reason))
        self._problems.append((candidate, reason))
        self._progress(1)

    def _push_batch(self, kind: Kind, batch: Sequence[_Ready]) -> None:
        if self._dry_run:
            self._would_push |= {(kind, r.candidate.record_id) for r in batch}
            self.due += [(kind, r.candidate.record_id) for r in batch]
            self.tally.pushed += len(batch)
            self._progress(len(batch))
            return
        entries = [(r.candidate.record_id, r.version, r.previous, r.fingerprint) for r in batch]
        key = batch_key(self._client.name, kind, entries)
        try:
            results = self._call(kind, [r.payload for r in batch], key)
        except ProviderRejected as error:
            reason = str(error).removeprefix(f"{error.provider}: ")
            results = [PushResult(r.candidate.record_id, error=reason) for r in batch]
        self._store_results(kind, batch, results)
        self._progress(len(batch))

    def _call(self, kind: Kind, payloads: list[Payload], key: str) -> list[PushResult]:
        if self._retry is None:
            return _send(self._client, kind, payloads, key)
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return _send(self._client, kind, payloads, key)
            except ProviderUnavailable as error:
                if error.provider_code == DAILY_LIMIT:
                    raise Stopped(f"{error} (daily limit; the next run resumes)") from error
                if attempt == self._retry.attempts:
                    raise Stopped(f"{error} (gave up after {attempt} attempts)") from error
                self._retry.wait(attempt, error.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover

    def _store_results(
        self, kind: Kind, batch: Sequence[_Ready], results: Sequence[PushResult]
    ) -> None:
        by_id = {result.record_id: result for result in results}
        with self._uow() as uow:
            now = self._clock.now()
            stored: list[SyncRecord] = []
            for ready in batch:
                record_id = ready.candidate.record_id
                result = by_id.get(record_id) or PushResult(record_id, error="no result for it")
                record = self._stored(uow, kind, record_id, now)
                if result.ok:
                    record.status, record.external_id = SyncStatus.SYNCED, result.external_id
                    record.fingerprint, record.error = ready.fingerprint, None
                else:
                    reason = f"refused by {self._client.name}: {result.error or 'no reason given'}"
                    record.status, record.error = SyncStatus.FAILED, reason
                stored.append(record)
            self._commit(uow, stored)
        for record in stored:
            if record.status is SyncStatus.SYNCED:
                self.tally.pushed += 1
            else:
                self.tally.failures.append((record.record_id, record.error or ""))

    def _store_problems(self, kind: Kind) -> None:
        problems, self._problems = self._problems, []
        if self._dry_run or not problems:
            return
        with self._uow() as uow:
            now = self._clock.now()
            stored: list[SyncRecord] = []
            for candidate, reason in problems:
                known = self._record(kind, candidate.record_id)
                if known is not None and (known.status, known.error) == (SyncStatus.FAILED, reason):
                    continue
                record = self._stored(uow, kind, candidate.record_id, now)
                record.status, record.error = SyncStatus.FAILED, reason
                stored.append(record)
            self._commit(uow, stored)

    def _stored(self, uow: UnitOfWork, kind: Kind, record_id: str, now: datetime) -> SyncRecord:
        """The record to update (the last pushed version is kept on a failure)."""
        key = SyncRecord.key(self._client.name, kind, record_id)
        record = uow.sync_records.find(key)
        if record is None:
            record = SyncRecord(
                id=key,
                provider=self._client.name,
                kind=kind.value,
                record_id=record_id,
                school_id=self._books.school.id,
                status=SyncStatus.FAILED,
                updated_at=now,
            )
            uow.sync_records.add(record)
        record.updated_at = now
        return record

    def _commit(self, uow: UnitOfWork, stored: Sequence[SyncRecord]) -> None:
        """Commit, then remember what the sync records now say."""
        try:
            uow.commit()
        except ConcurrencyConflict as error:
            raise Stopped(f"another sync of {self._books.school.name} is running") from error
        self._records.update((record.id, record) for record in stored)

    def _record(self, kind: Kind, record_id: str) -> SyncRecord | None:
        return self._records.get(SyncRecord.key(self._client.name, kind, record_id))


def _send(
    client: AccountingClient, kind: Kind, payloads: list[Payload], key: str
) -> list[PushResult]:
    if kind is Kind.CONTACT:
        return client.upsert_contacts(_only(AccountingContact, payloads), key)
    if kind is Kind.INVOICE:
        return client.push_invoices(_only(AccountingInvoice, payloads), key)
    if kind is Kind.PAYMENT:
        return client.push_payments(_only(AccountingPayment, payloads), key)
    return client.push_credit_notes(_only(AccountingCreditNote, payloads), key)


def _only(cls: type[P], payloads: list[Payload]) -> list[P]:
    found: list[P] = [p for p in payloads if isinstance(p, cls)]
    if len(found) != len(payloads):
        raise TypeError(f"a batch of {cls.__name__} holds another kind of record")
    return found

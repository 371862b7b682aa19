"""Accounting sync: push a school's contacts, invoices, payments and credit notes to its
accounting system, incrementally, exactly once, and report what each run did.

Contacts go first, then invoices, then the payments and credit notes allocated to them. A
record that cannot be pushed (no account code for a line's service, refused by the provider)
fails alone, and so do the records that depend on it; the run goes on. Each record's sync
record holds its id in the accounting system and the fingerprint of what was last pushed, so a
re-run pushes only what changed, and a crash's replay is absorbed by the idempotency key.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from justdriving.domain.accounting import SyncRun
from justdriving.domain.errors import ConfigurationError
from justdriving.domain.ids import new_id
from justdriving.domain.schools import School
from justdriving.domain.services.accounting_documents import load_books
from justdriving.domain.services.accounting_plan import Kind, plan
from justdriving.domain.services.accounting_push import RetryPolicy, Stopped, SyncPass
from justdriving.domain.services.accounting_runs import (
    Progress,
    moment,
    next_watermark,
    previous_watermark,
)
from justdriving.ports.accounting import AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWorkFactory

# Without an explicit `since`, a run looks back this far before the previous run's watermark:
# a payment can be recorded days after it succeeded (webhooks are retried for three days).
LATE_ARRIVALS = timedelta(days=3)


class AccountingSync:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        client: AccountingClient | None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._client = client
        self._retry = retry or RetryPolicy()

    def run(
        self,
        school_id: str,
        *,
        since: date | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> SyncRun:
        """Push what changed in one school since `since` (a date is midnight at the school;
        default: the last run's watermark) and store the run. A dry run calls nothing and
        writes no sync record. Raises ConfigurationError when no provider is configured or
        the school keeps its books in another one."""
        client = self._configured()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            if not uses(school, client):
                raise ConfigurationError(
                    f"{school.name} keeps its books in {school.settings.accounting_provider}, "
                    f"not in {client.name}"
                )
        return self._run(client, school_id, since=since, dry_run=dry_run, progress=progress)

    def run_all(
        self, *, since: date | None = None, dry_run: bool = False, progress: Progress | None = None
    ) -> list[SyncRun]:
        """One run per school that keeps its books in this provider (or did not choose one)."""
        client = self._configured()
        with self._uow() as uow:
            schools = [s.id for s in uow.schools.list() if uses(s, client)]
        return [
            self._run(client, s, since=since, dry_run=dry_run, progress=progress) for s in schools
        ]

    def _run(
        self,
        client: AccountingClient,
        school_id: str,
        *,
        since: date | None,
        dry_run: bool,
        progress: Progress | None,
    ) -> SyncRun:
        started_at = self._clock.now()  # before reading: the watermark must not pass a document
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            books = load_books(uow, school)
            records = {r.id: r for r in uow.sync_records.for_school(client.name, school.id)}
            previous = previous_watermark(uow, client.name, school.id)
        run = SyncRun(
            id=new_id("sync"),
            provider=client.name,
            school_id=school.id,
            started_at=started_at,
            dry_run=dry_run,
        )
        explicit = moment(school, since)
        window = explicit or (previous - LATE_ARRIVALS if previous else None)
        candidates = plan(books, records, client.name, window)
        push = SyncPass(
            uow=self._uow,
            clock=self._clock,
            client=client,
            books=books,
            records=records,
            dry_run=dry_run,
            retry=self._retry,
            progress=_Counter(school.name, sum(map(len, candidates.values())), progress),
        )
        try:
            for kind in Kind:
                push.push(kind, candidates[kind])
        except Stopped as stop:
            run.stopped_early = stop.reason
        except ConfigurationError as error:
            run.stopped_early = str(error)
            self._finish(run, push, previous, explicit)
            raise
        self._finish(run, push, previous, explicit)
        return run

    def _finish(
        self, run: SyncRun, push: SyncPass, previous: datetime | None, explicit: datetime | None
    ) -> None:
        run.pushed, run.skipped = push.tally.pushed, push.tally.skipped
        run.failures = tuple(push.tally.failures)
        run.watermark = next_watermark(run, previous, explicit)
        run.finished_at = self._clock.now()
        with self._uow() as uow:
            uow.sync_runs.add(run)
            uow.commit()

    def _configured(self) -> AccountingClient:
        if self._client is None:
            raise ConfigurationError(
                "ACCOUNTING_PROVIDER is none",
                [
                    "set ACCOUNTING_PROVIDER=csv (files in ACCOUNTING_EXPORT_DIR), xero or "
                    "quickbooks; `--dry-run` shows what would be pushed without writing"
                ],
            )
        return self._client


def uses(school: School, client: AccountingClient) -> bool:
    """The school keeps its books in this provider, or left the choice to the platform."""
    return school.settings.accounting_provider in (None, client.name)


class _Counter:
    """Counts records done and tells `progress` (school, done, total), starting at 0."""

    def __init__(self, school: str, total: int, progress: Progress | None) -> None:
        self._school, self._total, self._progress = school, total, progress
        self._done = 0
        self(0)

    def __call__(self, count: int) -> None:
        self._done += count
        if self._progress is not None:
            self._progress(self._school, self._done, self._total)

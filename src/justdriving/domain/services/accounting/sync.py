"""Accounting sync: push a school's contacts, invoices, payments and credit notes to its
accounting system, incrementally, exactly once, and report what each run did.

Contacts go first, then invoices, then the payments and credit notes allocated to them. A
record that cannot be pushed (no account code for a line's service, refused by the provider)
fails alone, and so do the records that depend on it; the run goes on. Each record's sync
record holds its id in the accounting system and the fingerprint of what was last pushed, so a
re-run pushes only what changed, and a crash's replay is absorbed by the idempotency key.

Each school's run goes to its own books (AccountingBooks: the organisation it connected, else
the platform's). A school whose books are not reachable (none connected, a revoked grant) gets
a run marked `not_connected`, nothing pushed and its watermark kept, so nothing is lost; in
`run_all` that is no failure of the other schools' runs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from justdriving.domain.accounting import SyncRun
from justdriving.domain.errors import BooksNotConnected, ConfigurationError
from justdriving.domain.ids import new_id
from justdriving.domain.services.accounting.books import as_books, uses
from justdriving.domain.services.accounting.documents import Kind, load_books
from justdriving.domain.services.accounting.plan import plan
from justdriving.domain.services.accounting.push import RetryPolicy, Stopped, SyncPass
from justdriving.domain.services.accounting.runs import (
    Progress,
    moment,
    next_watermark,
    previous_watermark,
)
from justdriving.ports.accounting import AccountingBooks, AccountingClient
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
        books: AccountingBooks | AccountingClient | None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._books = as_books(books)  # a single client: the same books for every school
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
        the school keeps its books in another one, BooksNotConnected when its books are not
        reachable (the run is stored, marked not connected)."""
        books = self._configured()
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            if not uses(school, books):
                raise ConfigurationError(
                    f"{school.name} keeps its books in {school.settings.accounting_provider}, "
                    f"not in {books.name}"
                )
        return self._run(books, school_id, since=since, dry_run=dry_run, progress=progress)

    def run_all(
        self, *, since: date | None = None, dry_run: bool = False, progress: Progress | None = None
    ) -> list[SyncRun]:
        """One run per school that keeps its books in this provider (or did not choose one);
        a school whose books are not reachable has its run marked `not_connected`."""
        books = self._configured()
        with self._uow() as uow:
            schools = [s.id for s in uow.schools.list() if uses(s, books)]
        return [
            self._run(books, s, since=since, dry_run=dry_run, progress=progress, quiet=True)
            for s in schools
        ]

    def _run(
        self,
        books: AccountingBooks,
        school_id: str,
        *,
        since: date | None,
        dry_run: bool,
        progress: Progress | None,
        quiet: bool = False,
    ) -> SyncRun:
        """`quiet`: a school whose books are not reachable is reported by its run, not
        raised."""
        started_at = self._clock.now()  # before reading: the watermark must not pass a document
        try:
            client = books.for_school(school_id)
        except BooksNotConnected as error:
            run = self._not_connected(books.name, school_id, started_at, dry_run, error)
            if quiet:
                return run
            raise
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            held = load_books(uow, school)
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
        candidates = plan(held, records, client.name, window)
        push = SyncPass(
            uow=self._uow,
            clock=self._clock,
            client=client,
            books=held,
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
            run.not_connected = isinstance(error, BooksNotConnected)
            self._finish(run, push, previous, explicit)
            if quiet and run.not_connected:
                return run
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

    def _not_connected(
        self,
        provider: str,
        school_id: str,
        started_at: datetime,
        dry_run: bool,
        error: BooksNotConnected,
    ) -> SyncRun:
        """The run of a school whose books are not reachable: nothing pushed, watermark kept."""
        with self._uow() as uow:
            previous = previous_watermark(uow, provider, school_id)
            run = SyncRun(
                id=new_id("sync"),
                provider=provider,
                school_id=school_id,
                started_at=started_at,
                dry_run=dry_run,
                finished_at=self._clock.now(),
                watermark=previous,
                stopped_early=str(error),
                not_connected=True,
            )
            uow.sync_runs.add(run)
            uow.commit()
        return run

    def _configured(self) -> AccountingBooks:
        if self._books is None:
            raise ConfigurationError(
                "ACCOUNTING_PROVIDER is none",
                [
                    "set ACCOUNTING_PROVIDER=csv (files in ACCOUNTING_EXPORT_DIR), xero or "
                    "quickbooks; `--dry-run` shows what would be pushed without writing"
                ],
            )
        return self._books


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

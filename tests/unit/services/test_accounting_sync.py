"""Accounting sync on the fakes: mapping, per-record failures, re-runs, watermark, dry run,
provider limits and outages, shared customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from attrs import evolve

from justdriving.adapters.memory import (
    Booked,
    FakeAccountingClient,
    FrozenClock,
    MemoryStore,
    MemoryUnitOfWorkFactory,
)
from justdriving.application import Application
from justdriving.domain.accounting import AccountingInvoice, SyncRun, SyncStatus
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.domain.schools import AccountMapping, InvoiceService
from justdriving.domain.services.accounting.push import RetryPolicy
from justdriving.domain.services.accounting.runs import moment
from justdriving.domain.services.accounting.sync import AccountingSync
from justdriving.domain.services.invoicing import LineItem

from .test_accounting_fixtures import (
    ACCOUNTS,
    NO_WAIT,
    accounting_school,
    busy_school,
    dkk,
    invoice,
    pay,
    student,
)

LATER = timedelta(days=10)

# The failure names the fix.
MISSING_MATERIALS = (
    "no account code for materials in Køreskolen Vest: set account_map[InvoiceService.MATERIALS]"
    " = AccountMapping(account code, VAT code) in the school's settings"
)


def stray_invoice(owed: Any) -> AccountingInvoice:
    """Another invoice in the accounting system under the same number."""
    return AccountingInvoice(
        record_id="someone_else",
        number=owed.number,
        contact_id=owed.student_id,
        issued_at=owed.issued_at,
        due_at=owed.due_at,
        currency="DKK",
        lines=(),
    )


@pytest.fixture
def fake() -> FakeAccountingClient:
    return FakeAccountingClient(max_batch=2)


@pytest.fixture
def uow(store: MemoryStore) -> MemoryUnitOfWorkFactory:
    return MemoryUnitOfWorkFactory(store)


@pytest.fixture
def sync(uow: MemoryUnitOfWorkFactory, clock: FrozenClock, fake: FakeAccountingClient) -> Any:
    return AccountingSync(uow, clock, fake, retry=NO_WAIT)


def operations(fake: FakeAccountingClient) -> list[str]:
    return [operation for operation, _ in fake.calls]


def stored_runs(
    uow: MemoryUnitOfWorkFactory, school_id: str, provider: str = "fake"
) -> list[SyncRun]:
    with uow() as unit:
        return list(unit.sync_runs.latest(provider, school_id, 10))


def set_accounts(uow: MemoryUnitOfWorkFactory, school_id: str, accounts: dict[Any, Any]) -> None:
    with uow() as unit:
        school = unit.schools.get(school_id)
        school.settings = evolve(school.settings, account_map=accounts)
        unit.commit()


class LimitedClient:
    """The fake, until `allowed` calls have been made; then the provider's daily limit."""

    def __init__(self, fake: FakeAccountingClient, allowed: int) -> None:
        self.fake, self.allowed = fake, allowed
        self.name, self.max_batch = fake.name, fake.max_batch

    def __getattr__(self, method: str) -> Any:
        def call(batch: Sequence[Any], key: str) -> Any:
            if self.allowed <= 0:
                raise ProviderUnavailable("fake", "5000 calls today", provider_code="daily_limit")
            self.allowed -= 1
            return getattr(self.fake, method)(batch, key)

        return call


class TestFirstRun:
    def test_pushes_contacts_then_invoices_then_payments_then_credit_notes(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)

        run = sync.run(books.school.id)

        assert (run.pushed, run.skipped, run.failures, run.stopped_early) == (14, 0, (), None)
        order = list(dict.fromkeys(operations(fake)))
        assert order == ["contacts", "invoices", "payments", "credit_notes"]
        assert (len(fake.contacts), len(fake.invoices)) == (4, 5)
        assert (len(fake.payments), len(fake.credit_notes)) == (3, 2)

    def test_maps_each_line_to_the_schools_account_and_vat_code(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)

        part = fake.invoices[books.invoices[1].id].record
        assert [(line.account_code, line.vat_code) for line in part.lines] == [
            ("1000", "U25"),
            ("1040", "U25"),
        ]
        assert part.number == books.invoices[1].number
        assert part.contact_id == books.students[1].id
        assert fake.contacts[books.students[1].id].record.name == "Bo Berg"

    def test_payments_carry_what_was_counted_against_the_invoice_and_its_external_id(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)

        part_paid = fake.payments[books.payments[1].id].record
        assert part_paid.amount.amount == 30000
        assert part_paid.invoice_external_id == fake.invoices[books.invoices[1].id].external_id
        refunded_later = fake.payments[books.payments[2].id].record
        assert refunded_later.amount.amount == 225000  # the refund is a credit note

    def test_an_overpayment_counts_only_what_the_invoice_needed(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(app)
        owed = invoice(app, school, student(app, school, "Eva Eriksen"))
        payment = pay(app, school, owed, "800.00")

        sync.run(school.id)

        assert fake.payments[payment.id].record.amount.amount == 50000

    def test_credit_notes_are_allocated_to_their_invoice_in_the_accounting_system(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)

        void_note = fake.credit_notes[books.credit_notes[0]].record
        assert void_note.invoice_external_id == fake.invoices[books.invoices[2].id].external_id
        assert void_note.lines[0].account_code == "1020"

    def test_the_run_is_stored_with_its_watermark(
        self, app: Application, sync: AccountingSync, uow: MemoryUnitOfWorkFactory
    ) -> None:
        books = busy_school(app)
        run = sync.run(books.school.id)

        [stored] = stored_runs(uow, books.school.id)
        assert (stored.id, stored.pushed, stored.watermark) == (run.id, 14, run.started_at)
        assert stored.finished_at is not None

    def test_a_draft_invoice_is_not_in_the_books(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(app)
        anna = student(app, school, "Anna Andersen")
        app.draft_invoice(school.id, anna.id, [LineItem(InvoiceService.LESSON, "x", dkk("1.00"))])

        run = sync.run(school.id)

        assert (run.pushed, fake.calls) == (0, [])


class TestRerun:
    def test_a_second_run_pushes_nothing(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        calls = len(fake.calls)

        again = sync.run(books.school.id)

        assert (again.pushed, again.skipped, again.failures) == (0, 14, ())
        assert len(fake.calls) == calls

    def test_the_next_run_looks_back_a_few_days_before_the_watermark(
        self, app: Application, sync: AccountingSync, clock: FrozenClock
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        clock.advance(timedelta(days=2, hours=23))

        second = sync.run(books.school.id)

        assert (second.pushed, second.skipped) == (0, 14)  # a late payment would be seen

    def test_documents_well_before_the_watermark_are_not_looked_at_again(
        self, app: Application, sync: AccountingSync, clock: FrozenClock, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        clock.advance(LATER)
        sync.run(books.school.id)
        clock.advance(LATER)
        calls = len(fake.calls)

        quiet = sync.run(books.school.id)

        # Only the 4 contacts in the books are compared (a student may have been renamed);
        # unchanged, they are skipped without a call.
        assert (quiet.pushed, quiet.skipped, quiet.failures) == (0, 4, ())
        assert len(fake.calls) == calls

    def test_a_renamed_student_reaches_the_books_on_the_next_run_without_a_new_document(
        self, app: Application, sync: AccountingSync, clock: FrozenClock, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        clock.advance(LATER)
        anna = books.students[0]

        app.change_student(books.school.id, anna.id, name="Anna Østergaard")
        renamed = sync.run(books.school.id)

        assert (renamed.pushed, renamed.failures) == (1, ())
        assert fake.contacts[anna.id].record.name == "Anna Østergaard"
        assert len(fake.contacts) == 4

    def test_a_new_invoice_is_pushed_alone_and_its_known_contact_skipped(
        self, app: Application, sync: AccountingSync, clock: FrozenClock, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        clock.advance(LATER)
        new = invoice(app, books.school, books.students[0])

        run = sync.run(books.school.id)

        assert run.pushed == 1
        assert new.id in fake.invoices

    def test_a_voided_invoice_books_its_credit_note_against_the_pushed_invoice(
        self, app: Application, sync: AccountingSync, clock: FrozenClock, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        clock.advance(LATER)
        open_ = books.invoices[4]

        note = app.void_invoice(books.school.id, open_.id, reason="fee waived")
        run = sync.run(books.school.id)

        assert (run.pushed, run.failures) == (1, ())
        pushed = fake.credit_notes[note.id]
        assert pushed.record.invoice_external_id == fake.invoices[open_.id].external_id

    def test_a_changed_invoice_is_pushed_again_under_the_same_external_id(
        self,
        app: Application,
        sync: AccountingSync,
        clock: FrozenClock,
        fake: FakeAccountingClient,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        books = busy_school(app)
        sync.run(books.school.id)
        before = fake.invoices[books.invoices[0].id].external_id
        clock.advance(LATER)
        sync.run(books.school.id)
        clock.advance(LATER)
        set_accounts(
            uow, books.school.id, {**ACCOUNTS, InvoiceService.LESSON: AccountMapping("1100", "U25")}
        )

        unasked = sync.run(books.school.id)
        asked = sync.run(books.school.id, since=date(2025, 3, 1))

        assert unasked.pushed == 0  # outside the window: only `since` looks back
        lesson_invoices = 2  # the paid one and the part-paid one
        assert (asked.pushed, asked.failures) == (lesson_invoices, ())
        again = fake.invoices[books.invoices[0].id]
        assert (again.external_id, again.record.lines[0].account_code) == (before, "1100")


class TestMissingMapping:
    def test_stops_that_record_and_what_depends_on_it_not_the_run(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        no_materials = {s: m for s, m in ACCOUNTS.items() if s is not InvoiceService.MATERIALS}
        school = accounting_school(app, accounts=no_materials)
        anna, bo = student(app, school, "Anna Andersen"), student(app, school, "Bo Berg")
        books_ok = invoice(app, school, anna)
        book = invoice(app, school, bo, (InvoiceService.MATERIALS, "250.00"))
        payment = pay(app, school, book, "250.00")

        run = sync.run(school.id)

        assert run.pushed == 3  # two contacts and the lesson invoice
        assert dict(run.failures) == {
            book.id: MISSING_MATERIALS,
            payment.id: f"skipped: its invoice {book.id} did not sync",
        }
        assert set(fake.invoices) == {books_ok.id}
        assert fake.payments == {}

    def test_the_failure_is_kept_and_the_next_run_pushes_it_once_mapped(
        self,
        app: Application,
        sync: AccountingSync,
        fake: FakeAccountingClient,
        clock: FrozenClock,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        school = accounting_school(
            app, accounts={InvoiceService.LESSON: ACCOUNTS[InvoiceService.LESSON]}
        )
        book = invoice(
            app, school, student(app, school, "Bo Berg"), (InvoiceService.MATERIALS, "250.00")
        )
        payment = pay(app, school, book, "250.00")
        sync.run(school.id)
        with uow() as unit:
            failed = {r.record_id: r for r in unit.sync_records.for_school("fake", school.id)}
        assert failed[book.id].status is SyncStatus.FAILED
        assert failed[book.id].error == MISSING_MATERIALS
        clock.advance(LATER)
        sync.run(book.school_id)

        clock.advance(LATER)  # well past the window: the failures alone bring them back
        set_accounts(uow, school.id, ACCOUNTS)
        run = sync.run(school.id)

        assert (run.pushed, run.failures) == (2, ())
        assert set(fake.invoices) == {book.id}
        assert set(fake.payments) == {payment.id}


class TestDryRun:
    def test_calls_nothing_writes_no_sync_record_and_is_stored_flagged(
        self,
        app: Application,
        sync: AccountingSync,
        fake: FakeAccountingClient,
        store: MemoryStore,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        books = busy_school(app)

        run = sync.run(books.school.id, dry_run=True)

        assert (run.dry_run, run.pushed, run.failures) == (True, 14, ())
        assert fake.calls == []
        assert store.count("sync_records") == 0
        [stored] = stored_runs(uow, books.school.id)
        assert (stored.dry_run, stored.watermark) == (True, None)

    def test_reports_mapping_failures_and_leaves_the_real_run_everything(
        self, app: Application, sync: AccountingSync, clock: FrozenClock
    ) -> None:
        school = accounting_school(app, accounts={})
        invoice(app, school, student(app, school, "Anna Andersen"))

        dry = sync.run(school.id, dry_run=True)
        clock.advance(LATER)
        real = sync.run(school.id)

        assert (dry.pushed, dry.failed) == (1, 1)  # the contact; the invoice has no code
        assert (real.pushed, real.failed) == (1, 1)


class TestProviderLimits:
    def test_the_daily_limit_stops_cleanly_and_the_next_run_resumes(
        self,
        app: Application,
        fake: FakeAccountingClient,
        clock: FrozenClock,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        books = busy_school(app)
        limited = AccountingSync(uow, clock, LimitedClient(fake, allowed=3), retry=NO_WAIT)

        first = limited.run(books.school.id)

        assert "daily limit" in str(first.stopped_early)
        assert (first.pushed, first.failures, first.watermark) == (6, (), None)
        clock.advance(timedelta(days=1))
        second = AccountingSync(uow, clock, fake, retry=NO_WAIT).run(books.school.id)
        assert (second.pushed, second.skipped, second.stopped_early) == (8, 6, None)
        assert len(fake.invoices) + len(fake.payments) + len(fake.credit_notes) == 10
        assert [r.stopped_early is None for r in stored_runs(uow, books.school.id)] == [True, False]

    def test_an_outage_is_retried_with_the_providers_wait(
        self,
        app: Application,
        fake: FakeAccountingClient,
        clock: FrozenClock,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        books = busy_school(app)
        waits: list[float] = []
        sync = AccountingSync(uow, clock, fake, retry=RetryPolicy(sleep=waits.append))
        fake.fail_next(ProviderUnavailable("fake", "429", retry_after=30))
        fake.fail_next(ProviderUnavailable("fake", "503"))

        run = sync.run(books.school.id)

        assert (run.pushed, run.stopped_early) == (14, None)
        assert waits == [30, 2]

    def test_a_lasting_outage_stops_the_run_after_a_few_tries(
        self,
        app: Application,
        fake: FakeAccountingClient,
        clock: FrozenClock,
        uow: MemoryUnitOfWorkFactory,
    ) -> None:
        books = busy_school(app)
        for _ in range(4):
            fake.fail_next(ProviderUnavailable("fake", "503 Service Unavailable"))

        run = AccountingSync(uow, clock, fake, retry=NO_WAIT).run(books.school.id)

        assert run.stopped_early == "fake: 503 Service Unavailable (gave up after 4 attempts)"
        assert (run.pushed, len(fake.contacts)) == (0, 0)

    def test_a_refused_batch_fails_its_records_and_the_next_run_tries_them_again(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient, clock: FrozenClock
    ) -> None:
        books = busy_school(app)
        fake.fail_next(ProviderRejected("fake", "validation failed"))

        first = sync.run(books.school.id)

        refused = {r for r, why in first.failures if why == "refused by fake: validation failed"}
        assert len(refused) == 2  # the first batch: two contacts
        assert refused <= {s.id for s in books.students}
        skipped = [why for _, why in first.failures if why.startswith("skipped: its ")]
        assert len(skipped) == first.failed - 2 > 0  # their documents wait for them
        assert first.pushed + first.failed == 14
        clock.advance(LATER)
        second = sync.run(books.school.id)
        assert (second.pushed, second.failures) == (first.failed, ())
        assert len(fake.invoices) + len(fake.payments) + len(fake.credit_notes) == 10

    def test_a_record_refused_before_is_sent_under_a_new_key_not_answered_from_memory(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(app)
        owed = invoice(app, school, student(app, school, "Anna Andersen"))
        fake.invoices["someone_else"] = Booked("fake_9", stray_invoice(owed))

        refused = sync.run(school.id)
        del fake.invoices["someone_else"]  # the bookkeeper removes the stray invoice
        accepted = sync.run(school.id)

        assert dict(refused.failures) == {
            owed.id: f"refused by fake: invoice number {owed.number} is already used"
        }
        assert (accepted.pushed, accepted.failures) == (1, ())
        assert owed.id in fake.invoices

    def test_a_lost_answer_is_retried_under_the_same_key_and_books_nothing_twice(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(app)
        fake.fail_next(ProviderUnavailable("fake", "timeout", possibly_done=True))

        run = sync.run(books.school.id)

        assert run.pushed == 14
        first, retry = fake.calls[0], fake.calls[1]
        assert first == retry
        assert len({b.external_id for b in fake.contacts.values()}) == 4


class TestCustomers:
    def test_shared_mode_books_every_document_to_one_students_contact(
        self, app: Application, sync: AccountingSync, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(app, shared=True)
        anna, bo = student(app, school, "Anna Andersen"), student(app, school, "Bo Berg")
        first, second = invoice(app, school, anna), invoice(app, school, bo)
        note = app.void_invoice(school.id, second.id, reason="mistake")

        run = sync.run(school.id)

        assert run.pushed == 1 + 2 + 1
        assert [(c.record.record_id, c.record.name) for c in fake.contacts.values()] == [
            (school.id, "Students")
        ]
        assert {fake.invoices[i.id].record.contact_id for i in (first, second)} == {school.id}
        assert fake.credit_notes[note.id].record.contact_id == school.id


class TestConfiguration:
    def test_without_a_provider_the_sync_says_so(self, app: Application) -> None:
        school = accounting_school(app)

        with pytest.raises(ConfigurationError, match="ACCOUNTING_PROVIDER is none"):
            app.sync_accounting(school.id)

    def test_a_school_keeping_its_books_elsewhere_is_refused_and_left_out_of_all(
        self, app: Application, sync: AccountingSync
    ) -> None:
        elsewhere = accounting_school(app, "Køreskolen Nord", provider="quickbooks")
        here = accounting_school(app, "Køreskolen Syd", provider="fake")
        default = accounting_school(app, "Køreskolen Øst")

        with pytest.raises(ConfigurationError, match="quickbooks"):
            sync.run(elsewhere.id)
        runs = sync.run_all()

        assert sorted(r.school_id for r in runs) == sorted([here.id, default.id])

    def test_the_facade_runs_the_sync_with_the_client_it_was_given(
        self, store: MemoryStore, clock: FrozenClock, fake: FakeAccountingClient, app: Application
    ) -> None:
        from justdriving.adapters.memory import (
            FakeEmailSender,
            FakeSmsSender,
            MemoryTemplateRenderer,
        )
        from justdriving.adapters.payments.registry import MemoryGatewayRegistry

        with_books = Application(
            uow=MemoryUnitOfWorkFactory(store),
            clock=clock,
            gateways=MemoryGatewayRegistry({}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
            accounting=fake,
            accounting_retry=NO_WAIT,
        )
        books = busy_school(with_books)

        [run] = with_books.sync_all_accounting(dry_run=True)
        real = with_books.sync_accounting(books.school.id)

        assert (run.dry_run, run.pushed, real.pushed) == (True, 14, 14)


class TestProgressAndSince:
    def test_progress_counts_up_to_every_record_considered(
        self, app: Application, sync: AccountingSync
    ) -> None:
        books = busy_school(app)
        seen: list[tuple[str, int, int]] = []

        sync.run(books.school.id, progress=lambda *args: seen.append(args))

        assert seen[0] == ("Køreskolen Vest", 0, 14)
        assert seen[-1] == ("Køreskolen Vest", 14, 14)
        assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)

    def test_a_since_date_is_midnight_at_the_school(self, app: Application) -> None:
        school = accounting_school(app)

        assert moment(school, date(2025, 3, 1)) == datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
        assert moment(school, datetime(2025, 3, 1, 12, tzinfo=UTC)) == datetime(
            2025, 3, 1, 12, tzinfo=UTC
        )

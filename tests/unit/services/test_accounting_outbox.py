"""The accounting push as outbox work: the reactions that queue it, the relay that pushes it
(retried on an outage, given up, retried by an operator) and the reconciliation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from attrs import evolve

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.accounting import SyncStatus
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.events import CreditNoteIssued, DomainEvent, InvoiceIssued, PaymentSucceeded
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.accounting.documents import Kind
from justdriving.domain.services.followups.books import (
    credit_note_to_books,
    invoice_to_books,
    payment_to_books,
    queue_push,
    records_of,
)
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.reactions import BOOKS, REACTIONS
from justdriving.ports.persistence import UnitOfWork

from .support import NOW, outbox
from .test_accounting_fixtures import ACCOUNTS, NO_WAIT, accounting_school, busy_school, dkk, pay
from .test_accounting_fixtures import invoice as issued_invoice
from .test_accounting_fixtures import student as new_student

E = TypeVar("E", bound=DomainEvent)


@pytest.fixture
def fake() -> FakeAccountingClient:
    return FakeAccountingClient(max_batch=2)


def application(
    store: MemoryStore, clock: FrozenClock, fake: FakeAccountingClient, *, push: bool
) -> Application:
    return Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway(clock=clock)}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=fake,
        accounting_retry=NO_WAIT,
        accounting_push=push,
    )


@pytest.fixture
def pushing(store: MemoryStore, clock: FrozenClock, fake: FakeAccountingClient) -> Application:
    """Pushes to the books as things happen (ACCOUNTING_SYNC_ENABLED)."""
    return application(store, clock, fake, push=True)


@pytest.fixture
def quiet(store: MemoryStore, clock: FrozenClock, fake: FakeAccountingClient) -> Application:
    """The same store and provider, without the push: as before ACCOUNTING_SYNC_ENABLED."""
    return application(store, clock, fake, push=False)


def pushes(store: MemoryStore) -> list[OutboxMessage]:
    return outbox(store, OutboxKind.PUSH_ACCOUNTING)


def react(
    store: MemoryStore, reaction: Callable[[UnitOfWork, E, datetime], None], event: E
) -> None:
    """One reaction in a plain unit of work (no other reaction runs), committed."""
    with MemoryUnitOfWorkFactory(store)() as uow:
        reaction(uow, event, NOW)
        uow.commit()


def synced(store: MemoryStore) -> Counter[str]:
    with MemoryUnitOfWorkFactory(store)() as uow:
        school_ids = [s.id for s in uow.schools.list()]
        records = [r for s in school_ids for r in uow.sync_records.for_school("fake", s)]
    return Counter(r.kind for r in records if r.status is SyncStatus.SYNCED)


class TestReactions:
    def test_an_issued_invoice_is_queued_for_the_books(
        self, quiet: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(quiet)
        owed = issued_invoice(quiet, school, new_student(quiet, school, "Anna Andersen"))
        assert pushes(store) == []

        react(
            store,
            invoice_to_books,
            InvoiceIssued(NOW, owed.id, str(owed.number), school_id=owed.school_id),
        )

        [row] = pushes(store)
        assert (row.school_id, records_of(row)) == (school.id, [(Kind.INVOICE, owed.id)])
        assert row.status is OutboxStatus.PENDING

    def test_a_succeeded_payment_of_an_invoice_is_queued_for_the_books(
        self, quiet: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(quiet)
        owed = issued_invoice(quiet, school, new_student(quiet, school, "Anna Andersen"))
        paid = pay(quiet, school, owed, "500.00")

        react(
            store,
            payment_to_books,
            PaymentSucceeded(NOW, paid.id, paid.amount, school_id=paid.school_id),
        )

        [row] = pushes(store)
        assert records_of(row) == [(Kind.PAYMENT, paid.id)]

    def test_a_succeeded_payment_of_no_invoice_is_not_queued_for_the_books(
        self, quiet: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(quiet)
        anna = new_student(quiet, school, "Anna Andersen")
        credit = quiet.record_manual_payment(
            school.id, anna.id, amount=dkk("300.00"), method=PaymentMethod.CASH
        )

        react(
            store,
            payment_to_books,
            PaymentSucceeded(NOW, credit.id, credit.amount, school_id=credit.school_id),
        )

        assert pushes(store) == []

    def test_a_credit_note_is_queued_for_the_books(
        self, quiet: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(quiet)
        owed = issued_invoice(quiet, school, new_student(quiet, school, "Anna Andersen"))
        note = quiet.void_invoice(school.id, owed.id, reason="booked by mistake")

        react(
            store,
            credit_note_to_books,
            CreditNoteIssued(NOW, note.id, owed.id, school_id=owed.school_id),
        )

        [row] = pushes(store)
        assert records_of(row) == [(Kind.CREDIT_NOTE, note.id)]

    def test_the_table_registers_each_after_the_events_own_follow_ups(self) -> None:
        assert BOOKS[InvoiceIssued] == (invoice_to_books,)
        assert BOOKS[PaymentSucceeded] == (payment_to_books,)
        assert BOOKS[CreditNoteIssued] == (credit_note_to_books,)
        assert CreditNoteIssued not in REACTIONS

    def test_with_the_push_off_nothing_is_queued_for_the_books(
        self, quiet: Application, store: MemoryStore
    ) -> None:
        busy_school(quiet)

        assert pushes(store) == []

    def test_with_the_push_on_every_document_is_queued_as_it_happens(
        self, pushing: Application, store: MemoryStore
    ) -> None:
        books = busy_school(pushing)

        queued = Counter(kind for row in pushes(store) for kind, _ in records_of(row))
        assert queued == {Kind.INVOICE: 5, Kind.PAYMENT: 3, Kind.CREDIT_NOTE: 2}
        assert {row.school_id for row in pushes(store)} == {books.school.id}


class TestRelayedPush:
    def test_the_relay_pushes_every_queued_document_with_what_it_needs(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        books = busy_school(pushing)

        report = pushing.relay_outbox()

        assert report.dead == 0
        assert (len(fake.contacts), len(fake.invoices)) == (4, 5)
        assert (len(fake.payments), len(fake.credit_notes)) == (3, 2)
        assert {row.status for row in pushes(store)} == {OutboxStatus.SENT}
        assert synced(store) == {"contact": 4, "invoice": 5, "payment": 3, "credit_note": 2}
        # The sync keeps the same sync records: a run now finds everything in the books.
        run = pushing.sync_accounting(books.school.id)
        assert (run.pushed, run.skipped, run.failures) == (0, 14, ())

    def test_an_outage_is_retried_after_retry_after_under_the_same_batch_key(
        self,
        pushing: Application,
        store: MemoryStore,
        clock: FrozenClock,
        fake: FakeAccountingClient,
    ) -> None:
        school = accounting_school(pushing)
        owed = issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))
        fake.fail_next(ProviderUnavailable("fake", "503 Service Unavailable", retry_after=120))

        assert pushing.relay_outbox().retried == 1
        [row] = pushes(store)
        assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
        assert "503" in str(row.last_error)
        [(operation, key)] = fake.calls  # the contact went first; its answer was lost

        clock.advance(timedelta(seconds=119))
        assert pushing.relay_outbox().claimed == 0
        clock.advance(timedelta(seconds=1))
        assert pushing.relay_outbox().sent == 1

        assert pushes(store)[0].status is OutboxStatus.SENT
        assert fake.invoices[owed.id].record.number == owed.number
        # Sent again under the same batch key, the provider replayed its answer: one contact.
        assert fake.calls[:2] == [(operation, key)] * 2
        assert [operation for operation, _ in fake.calls] == ["contacts", "contacts", "invoices"]
        assert len(fake.contacts) == 1

    def test_a_push_that_keeps_failing_is_dead_lettered_after_eight_attempts(
        self,
        pushing: Application,
        store: MemoryStore,
        clock: FrozenClock,
        fake: FakeAccountingClient,
    ) -> None:
        school = accounting_school(pushing)
        issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))
        for _ in range(10):
            fake.fail_next(ProviderUnavailable("fake", "down"))

        for _ in range(10):
            pushing.relay_outbox()
            clock.advance(timedelta(hours=7))

        [row] = pushes(store)
        assert (row.status, row.attempts) == (OutboxStatus.DEAD, 8)
        assert [d.kind for d in pushing.operations.list_outbox(status=OutboxStatus.DEAD)] == [
            row.kind
        ]

    def test_after_five_outages_in_a_row_the_circuit_opens_and_the_next_push_waits_untried(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(pushing)
        for name in ("Anna", "Bo", "Carl", "Dina", "Eva", "Finn"):
            issued_invoice(pushing, school, new_student(pushing, school, f"{name} Holm"))
        for _ in range(10):
            fake.fail_next(ProviderUnavailable("fake", "down"))

        report = pushing.relay_outbox()

        assert (report.retried, report.deferred) == (5, 1)  # the emails went out meanwhile
        assert len(fake.calls) == 5
        assert sorted(row.attempts for row in pushes(store)) == [0, 1, 1, 1, 1, 1]

    def test_a_refused_record_is_dead_lettered_with_its_reason_and_an_operator_retries_it(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(pushing, accounts={})  # no account codes yet
        owed = issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))

        report = pushing.relay_outbox()

        assert report.dead == 1
        [row] = pushes(store)
        assert row.status is OutboxStatus.DEAD
        assert "no account code for lesson" in str(row.last_error)
        assert fake.invoices == {}

        with pushing.uow() as uow:  # the school's accountant maps the accounts
            stored = uow.schools.get(school.id)
            stored.settings = evolve(stored.settings, account_map=ACCOUNTS)
            uow.commit()
        revived = pushing.operations.retry_outbox(row.id)
        assert revived.status is OutboxStatus.PENDING

        assert pushing.relay_outbox().sent == 1
        assert owed.id in fake.invoices
        assert pushes(store)[0].status is OutboxStatus.SENT

    def test_a_school_keeping_its_books_elsewhere_is_left_alone(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(pushing, provider="xero")
        issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))

        assert pushing.relay_outbox().sent == 2  # the invoice's email, and the push: nothing

        assert fake.calls == []
        assert pushes(store)[0].status is OutboxStatus.SENT

    def test_a_row_of_records_synced_already_calls_nothing(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(pushing)
        owed = issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))
        pushing.relay_outbox()
        calls = len(fake.calls)
        with pushing.uow() as uow:
            queue_push(uow, school.id, [(Kind.INVOICE, owed.id)], NOW)
            uow.commit()

        assert pushing.relay_outbox().sent == 1
        assert len(fake.calls) == calls


class TestReconciliation:
    def test_what_is_not_in_the_books_is_queued_and_then_pushed_by_the_relay(
        self,
        quiet: Application,
        pushing: Application,
        store: MemoryStore,
        fake: FakeAccountingClient,
    ) -> None:
        busy_school(quiet)  # before the push was switched on

        assert pushing.reconcile_accounting() == 14
        [row] = pushes(store)
        assert Counter(kind for kind, _ in records_of(row)) == {
            Kind.CONTACT: 4,
            Kind.INVOICE: 5,
            Kind.PAYMENT: 3,
            Kind.CREDIT_NOTE: 2,
        }
        assert pushing.relay_outbox().sent >= 1

        assert (len(fake.contacts), len(fake.invoices)) == (4, 5)
        assert (len(fake.payments), len(fake.credit_notes)) == (3, 2)
        assert pushing.reconcile_accounting() == 0

    def test_a_record_waiting_in_a_row_is_not_queued_again(
        self, pushing: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(pushing)
        owed = issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))
        pay(pushing, school, owed, "500.00")

        assert pushing.reconcile_accounting() == 0  # the invoice and payment rows wait
        assert len(pushes(store)) == 2

    def test_a_record_given_up_is_left_to_the_operator(
        self, pushing: Application, store: MemoryStore
    ) -> None:
        school = accounting_school(pushing, accounts={})
        issued_invoice(pushing, school, new_student(pushing, school, "Anna Andersen"))
        assert pushing.relay_outbox().dead == 1

        assert pushing.reconcile_accounting() == 0
        assert len(pushes(store)) == 1

    def test_a_changed_contact_is_queued_again(
        self, pushing: Application, store: MemoryStore, fake: FakeAccountingClient
    ) -> None:
        school = accounting_school(pushing)
        anna = new_student(pushing, school, "Anna Andersen")
        issued_invoice(pushing, school, anna)
        pushing.relay_outbox()
        with pushing.uow() as uow:
            uow.students.get(anna.id).name = "Anna Andersen Holm"
            uow.commit()

        assert pushing.reconcile_accounting() == 1
        pushing.relay_outbox()
        assert fake.contacts[anna.id].record.name == "Anna Andersen Holm"

    def test_without_a_provider_the_reconciliation_is_a_configuration_error(
        self, store: MemoryStore, clock: FrozenClock
    ) -> None:
        from justdriving.domain.errors import ConfigurationError
        from memory_app import memory_application

        with pytest.raises(ConfigurationError, match="ACCOUNTING_PROVIDER"):
            memory_application(clock, store=store).reconcile_accounting()


def test_lines_of_a_school_are_pushed_under_its_account_codes(
    pushing: Application, fake: FakeAccountingClient
) -> None:
    school = accounting_school(pushing)
    anna = new_student(pushing, school, "Anna Andersen")
    draft = pushing.draft_invoice(
        school.id, anna.id, [LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("200.00"))]
    )
    owed = pushing.issue_invoice(school.id, draft.id)

    pushing.relay_outbox()

    [line] = fake.invoices[owed.id].record.lines
    assert (line.account_code, line.vat_code) == ("1040", "U25")

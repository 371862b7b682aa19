"""The accounting push as outbox work, relayed like an SMS or a capture.

What must reach the books is queued in the transaction that made it: the reactions below queue
a `push_accounting` row for an issued invoice, a succeeded payment of an invoice, a credit note
and a student's changed details (their contact). The relay pushes the row's records (and
what they need that the accounting system does not hold yet: the contact, the invoice) with the
sync's planner, fingerprints and batch keys, and gives the row its backoff, Retry-After,
circuit breaker, lease, dead letter and operator's retry. A record the provider refuses (or
that cannot be pushed: no account code) gives the row up with the reason; an operator retries
it from the ops page once it is fixed.

The reconciliation (a periodic job) queues whatever is still not in the books, as the sync
would push it: records made before the push was switched on, changed since, or whose row was
lost; records that already have a row waiting (or given up, for an operator) are left to it.

Each school's rows go to its own books (AccountingBooks), through a circuit of their own. A
row of a school whose books are not reachable (none connected, a revoked grant) waits: it is
put back for NOT_CONNECTED_WAIT, no attempt counted, until the school connects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from justdriving.domain.accounting import SyncRecord
from justdriving.domain.errors import (
    BooksNotConnected,
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.events import (
    CreditNoteIssued,
    InvoiceIssued,
    PaymentSucceeded,
    StudentDetailsChanged,
)
from justdriving.domain.ids import new_id
from justdriving.domain.outbox import OutboxKind, OutboxMessage, OutboxStatus
from justdriving.domain.schools import AccountingCustomerMode
from justdriving.domain.services.accounting_documents import SchoolBooks, load_books
from justdriving.domain.services.accounting_plan import Kind, Plan, plan
from justdriving.domain.services.accounting_push import Stopped, SyncPass
from justdriving.domain.services.accounting_sync import uses
from justdriving.domain.services.books import as_books
from justdriving.domain.services.notifications import queue_side_effect
from justdriving.domain.services.relay_messages import Deferred, Job, Prepared
from justdriving.ports.accounting import AccountingBooks, AccountingClient
from justdriving.ports.clock import Clock
from justdriving.ports.persistence import UnitOfWork, UnitOfWorkFactory

# What a contact in the books carries of a student (AccountingContact): a change to one of
# these is pushed.
CONTACT_DETAILS: Final = frozenset({"name", "email", "phone", "address"})
ROW_RECORDS: Final = 100  # records in one row queued by the reconciliation
WAITING: Final = (
    OutboxStatus.PENDING,
    OutboxStatus.DEFERRED,  # a school's books not connected yet
    OutboxStatus.IN_FLIGHT,
    OutboxStatus.FAILED,
    OutboxStatus.DEAD,
)

NOT_CONNECTED_WAIT: Final = timedelta(hours=1)  # how often a not-connected school's row looks

Record = tuple[Kind, str]


def queue_push(
    uow: UnitOfWork, school_id: str, records: Sequence[Record], now: datetime
) -> OutboxMessage:
    """A row asking the relay to push `records` (kind, our id) to the school's books. Its key
    is the row's own: each batch sent carries the batch key of its records."""
    return queue_side_effect(
        uow,
        school_id,
        OutboxKind.PUSH_ACCOUNTING,
        {"records": [[kind.value, record_id] for kind, record_id in records]},
        new_id("books"),
        now,
    )


def records_of(row: OutboxMessage) -> list[Record]:
    return [(Kind(kind), str(record_id)) for kind, record_id in row.payload["records"]]


# --------------------------------------------------------------------------------------------
# reactions (registered in reactions.py when the push is on)


def invoice_to_books(uow: UnitOfWork, event: InvoiceIssued, now: datetime) -> None:
    """An issued invoice is queued for the books (its contact goes with it)."""
    invoice = uow.invoices.get(event.invoice_id)
    queue_push(uow, invoice.school_id, [(Kind.INVOICE, invoice.id)], now)


def payment_to_books(uow: UnitOfWork, event: PaymentSucceeded, now: datetime) -> None:
    """A succeeded payment of an invoice is queued for the books; one of no invoice (a deposit)
    is not in them."""
    payment = uow.payments.get(event.payment_id)
    if payment.invoice_id is not None:
        queue_push(uow, payment.school_id, [(Kind.PAYMENT, payment.id)], now)


def credit_note_to_books(uow: UnitOfWork, event: CreditNoteIssued, now: datetime) -> None:
    """A credit note (a void, a refund) is queued for the books."""
    invoice = uow.invoices.get(event.invoice_id)
    queue_push(uow, invoice.school_id, [(Kind.CREDIT_NOTE, event.credit_note_id)], now)


def student_to_books(uow: UnitOfWork, event: StudentDetailsChanged, now: datetime) -> None:
    """A student's new details are queued for their contact in the books. The relay
    pushes it only once the contact is there (it goes with the student's first document);
    a school with one shared "Students" contact has nothing to update."""
    if CONTACT_DETAILS.isdisjoint(event.changed):
        return
    school = uow.schools.get(event.school_id)
    if school.settings.accounting_customer_mode is AccountingCustomerMode.SHARED:
        return
    queue_push(uow, school.id, [(Kind.CONTACT, event.student_id)], now)


# --------------------------------------------------------------------------------------------
# the relay's side


def configured(books: AccountingBooks | None) -> AccountingBooks:
    if books is None:
        raise ConfigurationError("ACCOUNTING_PROVIDER is none")
    return books


class BooksPushes:
    """Prepares a `push_accounting` row for the relay: reads the books in the relay's unit of
    work; the push itself (outside it) commits each batch's sync records as the sync does."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        books: AccountingBooks | AccountingClient | None,
    ) -> None:
        self._uow, self._clock, self._books = uow, clock, as_books(books)

    def prepare(self, uow: UnitOfWork, row: OutboxMessage) -> Prepared:
        """None when there is nothing to push: synced and unchanged already (the planner
        skips those), no such record in the books, or the school keeps them elsewhere;
        Deferred while the school's books are not connected."""
        books = configured(self._books)
        school = uow.schools.get(row.school_id)
        if not uses(school, books):
            return None
        try:
            client = books.for_school(school.id)
        except BooksNotConnected as error:
            return Deferred(self._clock.now() + NOT_CONNECTED_WAIT, str(error))
        held = load_books(uow, school)
        records = {r.id: r for r in uow.sync_records.for_school(client.name, school.id)}
        candidates = plan(held, records, client.name, None, only=records_of(row))
        if not any(candidates.values()):
            return None
        push = partial(self._push, client, held, records, candidates)
        # A circuit per school: one organisation's outage or revoked grant holds no other's.
        return Job(f"accounting:{client.name}:{school.id}", push, _nothing)

    def _push(
        self,
        client: AccountingClient,
        books: SchoolBooks,
        records: dict[str, SyncRecord],
        candidates: Plan,
    ) -> None:
        """Push; an outage is raised as it is (the relay backs off, honouring Retry-After);
        a refused record gives the row up with its reason (ProviderRejected)."""
        push = SyncPass(
            uow=self._uow,
            clock=self._clock,
            client=client,
            books=books,
            records=records,
            dry_run=False,
            retry=None,
            progress=_ignore,
        )
        try:
            for kind in Kind:
                push.push(kind, candidates[kind])
        except Stopped as stop:  # another push of the same records committed first
            raise ProviderUnavailable(client.name, stop.reason) from stop
        if push.tally.failures:
            reasons = "; ".join(f"{record}: {why}" for record, why in push.tally.failures)
            raise ProviderRejected(client.name, f"not in the books: {reasons}")


def _nothing(uow: UnitOfWork, result: Any, now: datetime) -> None:
    """Each batch's outcome is committed to its sync records as soon as the provider answers."""


def _ignore(count: int) -> None:
    """No one watches a relayed push's progress."""


# --------------------------------------------------------------------------------------------
# the reconciliation


class Reconciliation:
    """Queues what the sync would push and no row is waiting for, school by school."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        books: AccountingBooks | AccountingClient | None,
    ) -> None:
        self._uow, self._clock, self._books = uow, clock, as_books(books)

    def queue_missing(self) -> int:
        """Queue every record missing from the books (in rows of at most ROW_RECORDS) of each
        school that keeps its books in the configured provider and has them connected (the
        others are queued once they connect); how many records were queued. Raises
        ConfigurationError when no provider is configured."""
        books = configured(self._books)
        with self._uow() as uow:
            schools = [s.id for s in uow.schools.list() if uses(s, books)]
        queued = 0
        for school_id in schools:
            try:
                client = books.for_school(school_id)
            except BooksNotConnected:
                continue
            queued += self._school(client, school_id)
        return queued

    def _school(self, client: AccountingClient, school_id: str) -> int:
        with self._uow() as uow:
            school = uow.schools.get(school_id)
            books = load_books(uow, school)
            records = {r.id: r for r in uow.sync_records.for_school(client.name, school.id)}
            check = SyncPass(
                uow=self._uow,
                clock=self._clock,
                client=client,
                books=books,
                records=records,
                dry_run=True,
                retry=None,
                progress=_ignore,
            )
            candidates = plan(books, records, client.name, None)
            for kind in Kind:
                check.push(kind, candidates[kind])
            waiting = _covered(candidates, _waiting(uow, school.id))
            missing = [r for r in dict.fromkeys(check.due) if r not in waiting]
            now = self._clock.now()
            for start in range(0, len(missing), ROW_RECORDS):
                queue_push(uow, school.id, missing[start : start + ROW_RECORDS], now)
            uow.commit()
        return len(missing)


def _covered(candidates: Plan, waiting: set[Record]) -> set[Record]:
    """The waiting records and what they need (a payment's invoice and its contact): a row
    pushes what its records need along with them."""
    covered = set(waiting)
    for kind in reversed(Kind):  # credit notes and payments need invoices, which need contacts
        for candidate in candidates[kind]:
            if (kind, candidate.record_id) in covered:
                covered.update(candidate.needs)
    return covered


def _waiting(uow: UnitOfWork, school_id: str) -> set[Record]:
    """The records of the school's push rows not sent yet (given up ones too)."""
    waiting: set[Record] = set()
    for status in WAITING:
        for row in uow.outbox.list(status.value):
            if row.kind is OutboxKind.PUSH_ACCOUNTING and row.school_id == school_id:
                waiting.update(records_of(row))
    return waiting

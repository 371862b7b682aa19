"""Builders and the crash harness shared by the accounting tests, unit and integration (no
tests here). Everything goes through the Application, so it runs on any unit of work."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from attrs import define, evolve, field, frozen

from justdriving.adapters.memory import FakeAccountingClient, FrozenClock
from justdriving.application import Application
from justdriving.domain.accounting import SyncRun, SyncStatus
from justdriving.domain.errors import ProviderUnavailable
from justdriving.domain.invoices import Invoice
from justdriving.domain.money import Money
from justdriving.domain.payments import Payment, PaymentMethod
from justdriving.domain.people import Student
from justdriving.domain.schools import (
    AccountingCustomerMode,
    AccountMapping,
    InvoiceService,
    School,
    SchoolSettings,
)
from justdriving.domain.services.accounting.push import RetryPolicy
from justdriving.domain.services.accounting.sync import AccountingSync
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.persistence import UnitOfWorkFactory

ACCOUNTS = {
    InvoiceService.LESSON: AccountMapping("1000", "U25"),
    InvoiceService.PACKAGE: AccountMapping("1010", "U25"),
    InvoiceService.CANCELLATION_FEE: AccountMapping("1020", "U25"),
    InvoiceService.NO_SHOW_FEE: AccountMapping("1030", "U25"),
    InvoiceService.MATERIALS: AccountMapping("1040", "U25"),
    InvoiceService.TEST_DAY_CAR_HIRE: AccountMapping("1050", "U25"),
}
NO_WAIT = RetryPolicy(sleep=lambda seconds: None)


def dkk(text: str) -> Money:
    return Money.parse(text, "DKK")


def accounting_school(
    app: Application,
    name: str = "Køreskolen Vest",
    *,
    accounts: dict[InvoiceService, AccountMapping] | None = None,
    shared: bool = False,
    provider: str | None = None,
) -> School:
    mode = AccountingCustomerMode.SHARED if shared else AccountingCustomerMode.INDIVIDUAL
    settings = evolve(
        SchoolSettings(),
        account_map=ACCOUNTS if accounts is None else accounts,
        accounting_customer_mode=mode,
        accounting_provider=provider,
    )
    return app.register_school(name, vat_number="DK12345678", settings=settings)


def student(app: Application, school: School, name: str) -> Student:
    return app.add_student(school.id, name, email=f"{name.split()[0].lower()}@example.dk")


def later(app: Application) -> None:
    """A minute passes (documents are issued one after the other, as in life)."""
    clock = app.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(minutes=1))


def invoice(
    app: Application, school: School, to: Student, *lines: tuple[InvoiceService, str]
) -> Invoice:
    items = [
        LineItem(service, service.value.replace("_", " "), dkk(price)) for service, price in lines
    ]
    draft = app.draft_invoice(
        school.id, to.id, items or [LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))]
    )
    issued = app.issue_invoice(school.id, draft.id)
    later(app)
    return issued


def pay(app: Application, school: School, invoice: Invoice, amount: str) -> Payment:
    payment = app.record_manual_payment(
        school.id,
        invoice.student_id,
        amount=dkk(amount),
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
        reference=f"cash {invoice.number}",
    )
    later(app)
    return payment


@frozen
class Books:
    school: School
    students: tuple[Student, ...]
    invoices: tuple[Invoice, ...]
    payments: tuple[Payment, ...]
    credit_notes: tuple[str, ...]

    @property
    def records(self) -> int:
        return sum(map(len, (self.students, self.invoices, self.payments, self.credit_notes)))


def busy_school(app: Application, name: str = "Køreskolen Vest") -> Books:
    """Four students: paid in full, paid in part, voided, paid then partly refunded (and a
    second invoice still open). 4 contacts, 5 invoices, 3 payments, 2 credit notes."""
    school = accounting_school(app, name)
    anna, bo, carl, dina = (
        student(app, school, n) for n in ("Anna Andersen", "Bo Berg", "Carl Carlsen", "Dina Dahl")
    )
    paid = invoice(app, school, anna)
    part = invoice(
        app, school, bo, (InvoiceService.LESSON, "500.00"), (InvoiceService.MATERIALS, "200.00")
    )
    voided = invoice(app, school, carl, (InvoiceService.CANCELLATION_FEE, "250.00"))
    package = invoice(app, school, dina, (InvoiceService.PACKAGE, "2250.00"))
    open_ = invoice(app, school, dina, (InvoiceService.NO_SHOW_FEE, "500.00"))
    payments = (pay(app, school, paid, "500.00"), pay(app, school, part, "300.00"))
    payments += (pay(app, school, package, "2250.00"),)
    void_note = app.void_invoice(school.id, voided.id, reason="booked by mistake")
    later(app)
    refund = app.refund(school.id, payments[2].id, amount=dkk("500.00"), reason="lessons not taken")
    later(app)
    assert refund.credit_note_id is not None
    return Books(
        school,
        (anna, bo, carl, dina),
        (paid, part, voided, package, open_),
        payments,
        (void_note.id, refund.credit_note_id),
    )


# The crash harness --------------------------------------------------------------------------


class Crash(Exception):
    """The process died here."""


CALL_MODES = ("before_call", "after_call", "lost_answer")
COMMIT_MODES = ("before_commit", "after_commit")


@define
class Schedule:
    """When to die: at the Nth provider call (before it, or after the provider booked the batch
    and before we commit; or the provider loses its answer and we retry) or the Nth commit."""

    events: dict[tuple[str, int], str]
    counts: dict[str, int] = field(factory=lambda: defaultdict(int))

    def next(self, what: str) -> str | None:
        self.counts[what] += 1
        return self.events.get((what, self.counts[what]))


class CrashingClient:
    """Wraps the fake; records which idempotency keys reached it with which records."""

    def __init__(self, fake: FakeAccountingClient, schedule: Schedule) -> None:
        self.fake, self.schedule = fake, schedule
        self.name, self.max_batch = fake.name, fake.max_batch
        self.keys: dict[str, set[str]] = defaultdict(set)  # record id -> keys that reached it

    def upsert_contacts(self, batch: Sequence[Any], key: str) -> list[Any]:
        return self._call(self.fake.upsert_contacts, batch, key)

    def push_invoices(self, batch: Sequence[Any], key: str) -> list[Any]:
        return self._call(self.fake.push_invoices, batch, key)

    def push_payments(self, batch: Sequence[Any], key: str) -> list[Any]:
        return self._call(self.fake.push_payments, batch, key)

    def push_credit_notes(self, batch: Sequence[Any], key: str) -> list[Any]:
        return self._call(self.fake.push_credit_notes, batch, key)

    def _call(self, method: Callable[..., list[Any]], batch: Sequence[Any], key: str) -> list[Any]:
        mode = self.schedule.next("call")
        if mode == "before_call":
            raise Crash
        if mode == "lost_answer":
            self.fake.fail_next(ProviderUnavailable("fake", "timed out", possibly_done=True))
        for record in batch:
            self.keys[record.record_id].add(key)
        results = method(batch, key)
        if mode == "after_call":
            raise Crash
        return results


class CrashingUnitOfWork:
    """Wraps a unit-of-work factory; the scheduled commits die before or after committing."""

    def __init__(self, factory: UnitOfWorkFactory, schedule: Schedule) -> None:
        self.factory, self.schedule = factory, schedule

    def __call__(self) -> Any:
        uow = self.factory()
        commit = uow.commit

        def crashing_commit() -> None:
            mode = self.schedule.next("commit")
            if mode == "before_commit":
                raise Crash
            commit()
            if mode == "after_commit":
                raise Crash

        uow.commit = crashing_commit  # type: ignore[method-assign]
        return uow


def sync_until_done(
    uow: UnitOfWorkFactory,
    clock: FrozenClock,
    school_id: str,
    events: dict[tuple[str, int], str],
    fake: FakeAccountingClient,
) -> tuple[SyncRun, CrashingClient, int]:
    """Run the sync, restarting after every crash, until a run ends: (that run, the client,
    the crashes seen)."""
    schedule = Schedule(events)
    client = CrashingClient(fake, schedule)
    sync = AccountingSync(CrashingUnitOfWork(uow, schedule), clock, client, retry=NO_WAIT)
    crashes = 0
    for _ in range(len(events) + 1):
        try:
            return sync.run(school_id), client, crashes
        except Crash:
            crashes += 1
            clock.advance(timedelta(minutes=1))
    raise AssertionError("the sync never finished")


def assert_pushed_exactly_once(
    uow: UnitOfWorkFactory, books: Books, fake: FakeAccountingClient, client: CrashingClient
) -> None:
    """Every record is in the fake's books once, sent under one idempotency key only (a real
    provider would have made a duplicate of anything sent under two), and synced."""
    assert len(fake.contacts) == len(books.students)
    assert len(fake.invoices) == len(books.invoices)
    assert len(fake.payments) == len(books.payments)
    assert len(fake.credit_notes) == len(books.credit_notes)
    every = [fake.contacts, fake.invoices, fake.payments, fake.credit_notes]
    external_ids = [booked.external_id for book in every for booked in book.values()]
    assert len(set(external_ids)) == books.records
    assert {r: len(k) for r, k in client.keys.items() if len(k) != 1} == {}
    with uow() as unit:
        records = unit.sync_records.for_school(fake.name, books.school.id)
    assert len(records) == books.records
    assert {r.status for r in records} == {SyncStatus.SYNCED}
    held = {booked.external_id for book in every for booked in book.values()}
    assert {r.external_id for r in records} == held

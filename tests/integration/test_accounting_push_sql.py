"""The accounting push through the outbox on the SQL unit of work (SQLite always, PostgreSQL
when present): every document's reaction queues its row in the same transaction, the relay
pushes them all, and the sync then finds everything in the books."""

from __future__ import annotations

from collections import Counter

from conftest import Database
from integration_support import NOW

from justdriving.adapters.memory import (
    FakeAccountingClient,
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.services.followups.books import records_of
from unit.services.test_accounting_fixtures import NO_WAIT, busy_school


def test_every_document_is_queued_with_its_cause_and_pushed_by_the_relay(
    database: Database,
) -> None:
    clock = FrozenClock(NOW)
    books = FakeAccountingClient(max_batch=2)
    app = Application(
        uow=database.uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway(clock=clock)}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=books,
        accounting_retry=NO_WAIT,
        accounting_push=True,
    )
    school = busy_school(app).school

    with app.uow() as uow:
        pushes = [r for r in uow.outbox.list() if r.kind is OutboxKind.PUSH_ACCOUNTING]
    queued = Counter(kind.value for row in pushes for kind, _ in records_of(row))
    assert queued == {"invoice": 5, "payment": 3, "credit_note": 2}

    while app.relay_outbox().claimed:
        pass

    assert (len(books.contacts), len(books.invoices)) == (4, 5)
    assert (len(books.payments), len(books.credit_notes)) == (3, 2)
    with app.uow() as uow:
        statuses = {uow.outbox.get(r.id).status for r in pushes}
    assert statuses == {OutboxStatus.SENT}
    run = app.sync_accounting(school.id)
    assert (run.pushed, run.skipped, run.failures) == (0, 14, ())
    assert app.reconcile_accounting() == 0

"""The request path's one-INSERT inbox (QUEUE_BACKEND=worker) on SQLite and PostgreSQL:
concurrent repeats of a delivery store one row per event id, and a stored delivery that cannot
be read when the worker applies it ends REJECTED with its reason, changing nothing else."""

from __future__ import annotations

import json
import threading
from typing import Any

from integration_support import NOW, dkk
from sqlalchemy import Engine, func, select

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
    fake_webhooks,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql import tables
from justdriving.adapters.sql.inbox_intake import SqlInboxIntake
from justdriving.adapters.webhooks.registry import Receivers
from justdriving.application import Application
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.outbox import InboxStatus
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.inbox_storage import DEFERRED
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.webhooks import WebhookRequest

LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
SECRET = "whsec_fake"
PATH = "/webhook/payments/fake"


def _app(database: Any, gateway: FakePaymentGateway, clock: FrozenClock) -> Application:
    """One web process: its own connection pool, its own intake, the worker applying."""
    gateways = MemoryGatewayRegistry({"fake": gateway})
    return Application(
        uow=database.uow,
        clock=clock,
        gateways=gateways,
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        receivers=Receivers([], gateways),
        inbox_intake=SqlInboxIntake(database.new_engine()),
    )


def _rows(engine: Engine, table: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(table)))


def _everything_but_the_inbox(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: _rows(engine, table)
        for name, table in tables.metadata.tables.items()
        if name != "inbox"
    }


def test_concurrent_repeats_through_the_fast_path_store_one_row_per_event_id(
    database: Any,
) -> None:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", SECRET, clock=clock)
    apps = [_app(database, gateway, clock) for _ in range(2)]
    school = apps[0].register_school("Køreskolen Indbakke")
    deliveries, invoices = [], []
    for n in range(6):
        student = apps[0].add_student(school.id, f"Elev {n}", email=f"elev{n}@example.dk")
        draft = apps[0].draft_invoice(school.id, student.id, [LESSON])
        invoice = apps[0].issue_invoice(school.id, draft.id)
        started = apps[0].start_invoice_payment(school.id, invoice.id)
        deliveries.append(gateway.succeed(started.session.provider_payment_id))
        invoices.append(invoice.id)

    senders, repeats = 8, 3
    start = threading.Barrier(senders)
    receipts: list[Any] = []
    errors: list[BaseException] = []

    def send(index: int) -> None:
        app = apps[index % len(apps)]
        try:
            start.wait()
            for _ in range(repeats):
                for body, headers in deliveries:
                    request = WebhookRequest(PATH, body, headers)
                    receipts.append(app.receive_webhook("payments", "fake", request))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = senders * repeats * len(deliveries)
    assert sum(len(r.stored) for r in receipts) == len(deliveries)
    assert sum(r.duplicates for r in receipts) == sent - len(deliveries)
    c = tables.inbox.c
    with database.engine.connect() as connection:
        per_event = connection.execute(select(c.event_id, func.count()).group_by(c.event_id)).all()
    assert len(per_event) == len(deliveries)
    assert {count for _, count in per_event} == {1}
    stored = apps[0].webhooks  # the rows wait, raw, for the worker
    assert stored.apply_inline is False
    events = {json.loads(body)["id"] for body, _ in deliveries}
    with database.engine.connect() as connection:
        rows = connection.execute(select(c.event_id, c.event_type, c.payload, c.status)).all()
    assert {row.event_id for row in rows} == events
    assert {row.event_type for row in rows} == {"payment.succeeded"}
    assert all(row.payload["inbound"] == DEFERRED for row in rows)
    assert {row.status for row in rows} == {InboxStatus.RECEIVED.value}

    while apps[1].apply_inbox():
        pass

    with database.uow() as uow:
        assert {uow.invoices.get(i).status for i in invoices} == {InvoiceStatus.PAID}
    assert {row.status for row in apps[0].operations.list_inbox(limit=100)} == {
        InboxStatus.PROCESSED
    }


def test_a_stored_delivery_unusable_when_applied_ends_rejected_and_changes_nothing_else(
    database: Any,
) -> None:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", SECRET, clock=clock)
    app = _app(database, gateway, clock)
    app.register_school("Køreskolen Afvist")
    # Signed, with an id and a type (all the request path reads), but no event the fake's
    # wire format describes: its `created` is not a Unix time.
    body = json.dumps(
        {"id": "evt_unreadable", "type": "payment.succeeded", "created": "yesterday", "data": {}}
    ).encode()
    receipt = app.receive_webhook(
        "payments", "fake", WebhookRequest(PATH, body, fake_webhooks.sign(body, SECRET, NOW))
    )
    assert len(receipt.stored) == 1
    assert receipt.rejected == 0
    [stored] = app.operations.list_inbox(limit=10)
    assert (stored.status, stored.event_type) == (InboxStatus.RECEIVED, "payment.succeeded")
    before = _everything_but_the_inbox(database.engine)

    app.apply_inbox()

    [row] = app.operations.list_inbox(limit=10)
    assert row.status is InboxStatus.REJECTED
    assert row.error is not None
    assert "created" in row.error
    assert (row.id, row.event_id, row.body) == (stored.id, "evt_unreadable", body)
    assert row.processed_at == NOW
    assert row.lease_until is None
    assert _everything_but_the_inbox(database.engine) == before
    assert app.apply_inbox() == 0  # never tried again
    [again] = app.operations.list_inbox(limit=10)
    assert again.status is InboxStatus.REJECTED

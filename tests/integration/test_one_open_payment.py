"""One open online payment per invoice on SQLite and PostgreSQL, however many start at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from conftest import Database

from justdriving.adapters.memory import (
    FakePaymentGateway,
    FrozenClock,
)
from justdriving.domain.errors import ConcurrencyConflict
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.payment_starts import StartedPayment
from memory_app import memory_application

NOW = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
STARTS = 10


def test_ten_payment_starts_at_once_make_one_payment_and_one_provider_charge(
    database: Database,
) -> None:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway(clock=clock)
    app = memory_application(clock, uow=database.uow, gateway=gateway)
    school = app.register_school("Køreskolen Vest")
    student = app.add_student(school.id, "Ida Holm", phone="20 12 34 56")
    line = LineItem(InvoiceService.LESSON, "Køretime", Money.parse("500.00", "DKK"))
    invoice = app.issue_invoice(school.id, app.draft_invoice(school.id, student.id, [line]).id)
    gate = threading.Barrier(STARTS)
    started: list[StartedPayment] = []
    errors: list[Exception] = []

    def start() -> None:
        gate.wait()
        try:
            started.append(app.start_invoice_payment(school.id, invoice.id))
        except Exception as error:  # collected: asserted below, whatever it is
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # SQLite has one writer at a time: a caller may still see a conflict after its retries,
    # and then retries itself (the README's advice); never a second payment.
    assert all(isinstance(e, ConcurrencyConflict) for e in errors), errors
    assert len(started) >= 1
    assert len({s.payment.id for s in started}) == 1
    assert len({s.session.client_secret for s in started}) == 1
    assert len(gateway.charges) == 1
    with app.uow() as uow:
        assert len(uow.payments.for_student(school.id, student.id)) == 1

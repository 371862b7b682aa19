"""Random sequences of use cases keep the books straight: balances add up, refunds stay capped."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryGatewayRegistry,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.errors import JustDrivingError, RefundExceedsCaptured
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.services.application import Application

from .support import NOW, World, build_world

steps = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 1), st.integers(2, 96)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.sampled_from(CancelledBy)),
    st.tuples(st.just("advance"), st.integers(1, 36)),
    st.tuples(st.just("complete"), st.integers(0, 20)),
    st.tuples(st.just("no_show"), st.integers(0, 20)),
    st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 80_000), st.integers(-1, 20)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 60_000)),
)


class Ledger:
    """What the test itself saw happen, per student, in minor units."""

    def __init__(self) -> None:
        self.invoiced: dict[str, int] = defaultdict(int)
        self.paid: dict[str, int] = defaultdict(int)
        self.refunded: dict[str, int] = defaultdict(int)


class Run:
    def __init__(self) -> None:
        self.clock = FrozenClock(NOW)
        self.store = MemoryStore()
        self.app = Application(
            uow=MemoryUnitOfWorkFactory(self.store),
            clock=self.clock,
            gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway(clock=self.clock)}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
        )
        self.world: World = build_world(self.app)
        self.students = [self.world.student.id, self.world.add_student(self.app).id]
        self.bookings: list[str] = []
        self.payments: list[str] = []
        self.ledger = Ledger()

    def step(self, step: tuple[Any, ...]) -> None:
        action, *args = step
        try:
            getattr(self, f"_{action}")(*args)
        except RefundExceedsCaptured:
            raise
        except JustDrivingError:
            pass  # refused by a rule (double booking, too early, final state): nothing changes

    def _book(self, student: int, hours: int) -> None:
        start = self.clock.now().replace(minute=0) + timedelta(hours=hours)
        booking = self.world.book(self.app, start, student=_student(self, student))
        self.bookings.append(booking.id)

    def _cancel(self, index: int, by: CancelledBy) -> None:
        if self.bookings:
            booking = self.bookings[index % len(self.bookings)]
            self._count(self.app.cancel_booking(self.world.school.id, booking, by=by).invoices)

    def _advance(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    def _complete(self, index: int) -> None:
        if self.bookings:
            booking = self.bookings[index % len(self.bookings)]
            self._count(self.app.complete_lesson(self.world.school.id, booking).invoices)

    def _no_show(self, index: int) -> None:
        if self.bookings:
            booking = self.bookings[index % len(self.bookings)]
            self._count(self.app.mark_no_show(self.world.school.id, booking).invoices)

    def _pay(self, student: int, amount: int, invoice: int) -> None:
        student_id = self.students[student]
        invoices = [i.id for i in self.store.records("invoices") if i.student_id == student_id]
        payment = self.app.record_manual_payment(
            self.world.school.id,
            student_id,
            amount=Money(amount, "DKK"),
            method=PaymentMethod.CASH,
            invoice_id=invoices[invoice % len(invoices)] if invoices and invoice >= 0 else None,
        )
        self.payments.append(payment.id)
        self.ledger.paid[student_id] += amount

    def _refund(self, index: int, amount: int) -> None:
        if not self.payments:
            return
        payment = _stored(self, "payments", self.payments[index % len(self.payments)])
        try:
            refund = self.app.refund(self.world.school.id, payment.id, amount=Money(amount, "DKK"))
        except RefundExceedsCaptured:
            assert amount > payment.refundable.amount
            return
        assert amount <= payment.refundable.amount
        assert refund.status is RefundStatus.SUCCEEDED  # manual payments refund at once
        self.ledger.refunded[payment.student_id] += amount

    def _count(self, invoices: Any) -> None:
        for invoice in invoices:
            self.ledger.invoiced[invoice.student_id] += invoice.totals.gross.amount

    def check(self) -> None:
        records = {t: self.store.records(t) for t in ("invoices", "credit_notes", "payments")}
        refunds = self.store.records("refunds")
        for student in self.students:
            balance = self.app.balance(self.world.school.id, student)
            credited = sum(
                n.totals.gross.amount for n in records["credit_notes"] if n.student_id == student
            )
            assert balance.invoiced.amount == self.ledger.invoiced[student]
            assert balance.paid.amount == self.ledger.paid[student]
            assert balance.refunded.amount == self.ledger.refunded[student]
            assert balance.credited.amount == credited
            assert balance.amount.amount == (
                self.ledger.invoiced[student]
                - credited
                - self.ledger.paid[student]
                + self.ledger.refunded[student]
            )
        for payment in records["payments"]:
            assert payment.status is PaymentStatus.SUCCEEDED
            done = [r for r in refunds if r.payment_id == payment.id]
            assert sum(r.amount.amount for r in done) == payment.refunded.amount
            assert payment.refunded <= payment.captured
            assert not payment.refund_reserved
        for invoice in records["invoices"]:
            assert invoice.credited <= invoice.totals.gross
            assert invoice.paid <= invoice.totals.gross
            assert (invoice.status is InvoiceStatus.PAID) == (not invoice.outstanding.is_positive)


def _student(run: Run, index: int) -> Any:
    return _stored(run, "students", run.students[index])


def _stored(run: Run, table: str, id: str) -> Any:
    stored = run.store.read(table, id)
    assert stored is not None
    return stored.record


@settings(max_examples=200, deadline=None)
@given(st.lists(steps, max_size=25))
def test_random_use_cases_keep_balances_and_refunds_consistent(
    sequence: list[tuple[Any, ...]],
) -> None:
    run = Run()
    for step in sequence:
        run.step(step)
        run.check()

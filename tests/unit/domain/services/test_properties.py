"""Random sequences of use cases keep the books straight: balances add up, refunds stay capped."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.adapters.memory import (
    FakePaymentGateway,
    FrozenClock,
    MemoryStore,
)
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.errors import JustDrivingError, ProviderRejected, RefundExceedsCaptured
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod, PaymentStatus
from justdriving.domain.refunds import RefundStatus
from memory_app import memory_application

from .support import NOW, World, build_world

steps = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 1), st.integers(2, 96)),
    st.tuples(st.just("cancel"), st.integers(0, 20), st.sampled_from(CancelledBy)),
    st.tuples(st.just("advance"), st.integers(1, 36)),
    st.tuples(st.just("complete"), st.integers(0, 20)),
    st.tuples(st.just("no_show"), st.integers(0, 20)),
    st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 80_000), st.integers(-1, 20)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 60_000), st.booleans()),
    st.tuples(st.just("pay_online"), st.integers(0, 20)),
    st.tuples(st.just("void"), st.integers(0, 20)),
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
        self.gateway = FakePaymentGateway(clock=self.clock)
        self.app = memory_application(self.clock, store=self.store, gateway=self.gateway)
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

    def _refund(self, index: int, amount: int, refused: bool) -> None:
        """Refund part of a payment; `refused`: the provider refuses an online one (4xx)."""
        if not self.payments:
            return
        payment = _stored(self, "payments", self.payments[index % len(self.payments)])
        try:
            refund = self.app.refund(self.world.school.id, payment.id, amount=Money(amount, "DKK"))
        except RefundExceedsCaptured:
            assert amount > payment.refundable.amount
            return
        assert amount <= payment.refundable.amount
        online = payment.method is PaymentMethod.ONLINE
        if refused and online:
            self.gateway.fail_next(ProviderRejected("fake", "no", provider_code="charge_disputed"))
        self.app.relay_outbox()  # an online refund: the relay asks the (fake) gateway
        status = _stored(self, "refunds", refund.id).status
        if refused and online:
            assert status is RefundStatus.FAILED  # and its reservation released (check())
            return
        assert status is RefundStatus.SUCCEEDED
        self.ledger.refunded[payment.student_id] += amount

    def _pay_online(self, index: int) -> None:
        """Pay what an invoice asks online: the fake gateway's signed webhook confirms it."""
        invoices = self.store.records("invoices")
        if not invoices:
            return
        invoice = invoices[index % len(invoices)]
        started = self.app.start_invoice_payment(self.world.school.id, invoice.id)
        body, headers = self.gateway.succeed(started.session.provider_payment_id)
        self.app.receive_payment_webhook("fake", body, headers)
        self.payments.append(started.payment.id)
        self.ledger.paid[invoice.student_id] += started.payment.amount.amount

    def _void(self, index: int) -> None:
        invoices = self.store.records("invoices")
        if invoices:
            invoice = invoices[index % len(invoices)]
            self.app.void_invoice(self.world.school.id, invoice.id, reason="issued in error")

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
        for student in self.students:
            self._check_invoices_agree_with_the_balance(student, records)
        for payment in records["payments"]:
            if payment.status is PaymentStatus.PENDING:
                continue  # an online payment started and not (yet) paid
            assert payment.status is PaymentStatus.SUCCEEDED
            done = [
                r
                for r in refunds
                if r.payment_id == payment.id and r.status is RefundStatus.SUCCEEDED
            ]
            assert sum(r.amount.amount for r in done) == payment.refunded.amount
            assert payment.refunded <= payment.captured
            assert not payment.refund_reserved
        for invoice in records["invoices"]:
            assert invoice.credited <= invoice.totals.gross
            assert invoice.paid <= invoice.totals.gross
            assert invoice.refunded <= invoice.paid
            if invoice.status is not InvoiceStatus.VOID:
                assert invoice.status is _status_for(invoice)

    def _check_invoices_agree_with_the_balance(self, student: str, records: Any) -> None:
        """balance = the invoices' outstanding - the money kept as credit (unapplied), so an
        invoice never asks for more or less than the balance says is owed on it."""
        balance = self.app.balance(self.world.school.id, student)
        outstanding = sum(
            i.outstanding.amount for i in records["invoices"] if i.student_id == student
        )
        credit = sum(
            p.unapplied.amount
            for p in records["payments"]
            if p.student_id == student and p.status is PaymentStatus.SUCCEEDED
        )
        assert balance.amount.amount == outstanding - credit
        now = self.clock.now()
        overdue = {i.id for i in self.app.overdue_invoices(self.world.school.id, student)}
        owed_and_late = {
            i.id
            for i in records["invoices"]
            if i.student_id == student and i.outstanding.is_positive and i.due_at < now
        }
        assert overdue == owed_and_late


def _status_for(invoice: Any) -> InvoiceStatus:
    if not invoice.outstanding.is_positive:
        return InvoiceStatus.PAID
    if invoice.net_paid.is_positive:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


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

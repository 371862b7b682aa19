"""A package in instalments under any sequence of months passing, worker rounds, declined
cards (retryable or not), worker restarts, invoices paid by hand and a cancellation, on
memory://, SQLite and PostgreSQL alike (Hypothesis stateful tests).

Whatever happens: no charge is made twice at the provider, no invoice is paid twice, the
credits unlocked are exactly the share of the instalments paid, the instalments add up to the
price, and the student's balance is what the unpaid instalments still ask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import open_database
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from integration_support import NOW, build_world

from justdriving.adapters.memory import (
    FakePaymentGateway,
    FrozenClock,
    MemoryStore,
    MemoryUnitOfWorkFactory,
)
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.payments import PaymentMethod, PaymentStatus
from justdriving.domain.plans import ChargeState, PaymentPlan, PlanStatus
from justdriving.ports.persistence import UnitOfWorkFactory
from local_services import empty_tables
from memory_app import memory_application

Fresh = Callable[[], UnitOfWorkFactory]


class InstalmentLifecycle(RuleBasedStateMachine):
    fresh: Fresh

    def __init__(self) -> None:
        super().__init__()
        self.clock = FrozenClock(NOW)
        self.gateway = FakePaymentGateway("fake", clock=self.clock)
        self.uow = type(self).fresh()
        self.restart()
        world = build_world(self.app)
        self.school_id, self.student_id, self.lesson_id = (
            world.school.id,
            world.student.id,
            world.lesson.id,
        )
        setup = self.app.start_saving_card(self.school_id, self.student_id)
        body, headers = self.gateway.complete_setup(setup.session.provider_setup_id)
        self.app.receive_payment_webhook("fake", body, headers)
        [self.card] = self.gateway.saved_cards
        self.plan_id = ""
        self.price = Money(0, "DKK")
        self.lessons = 0

    def restart(self) -> None:
        """A new worker process over the same database and the same provider."""
        self.app = memory_application(self.clock, uow=self.uow, gateway=self.gateway)

    @initialize(
        count=st.integers(min_value=2, max_value=6),
        minor=st.integers(min_value=6, max_value=10**7),
        lessons=st.integers(min_value=1, max_value=40),
    )
    def start(self, count: int, minor: int, lessons: int) -> None:
        self.price, self.lessons = Money(minor, "DKK"), lessons
        plan = self.app.start_instalment_plan(
            self.school_id,
            self.student_id,
            booking_type_id=self.lesson_id,
            lessons=lessons,
            price=self.price,
            instalments=count,
        )
        self.plan_id = plan.id

    @rule(days=st.integers(min_value=1, max_value=40))
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @rule()
    def worker_round(self) -> None:
        self.app.charge_due_plans()
        self.app.relay_outbox()

    @rule(code=st.sampled_from(["insufficient_funds", "generic_decline", "stolen_card"]))
    def bank_declines_the_next_charge(self, code: str) -> None:
        self.gateway.decline_next_charge(self.card, code)

    @rule()
    def worker_restarts(self) -> None:
        self.restart()

    @precondition(lambda self: bool(self.plan_id))
    @rule()
    def student_pays_an_instalment_by_hand(self) -> None:
        for charge in self.plan().charges:
            invoice = self.read("invoices", charge.invoice_id)
            if invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
                self.app.record_manual_payment(
                    self.school_id,
                    self.student_id,
                    amount=invoice.outstanding,
                    method=PaymentMethod.CASH,
                    invoice_id=invoice.id,
                )
                return

    @precondition(lambda self: bool(self.plan_id))
    @rule()
    def school_cancels(self) -> None:
        if self.plan().status in (PlanStatus.ACTIVE, PlanStatus.PAUSED):
            self.app.cancel_plan(self.school_id, self.plan_id)

    # What always holds ----------------------------------------------------------------------

    @invariant()
    def no_charge_is_made_twice(self) -> None:
        succeeded = Counter(
            charge.metadata.get("charge_reason")
            for charge in self.gateway.charges.values()
            if charge.status is PaymentStatus.SUCCEEDED
        )
        assert all(n == 1 for n in succeeded.values()), succeeded

    @precondition(lambda self: bool(self.plan_id))
    @invariant()
    def each_charge_is_its_invoice_paid_once(self) -> None:
        plan = self.plan()
        assert [c.sequence for c in plan.charges] == list(range(len(plan.charges)))
        for charge in plan.charges:
            invoice = self.read("invoices", charge.invoice_id)
            assert invoice.totals.gross == charge.amount
            assert invoice.paid <= invoice.totals.gross  # never paid twice
            assert (charge.state is ChargeState.PAID) == (invoice.status is InvoiceStatus.PAID)

    @precondition(lambda self: bool(self.plan_id))
    @invariant()
    def credits_are_the_share_of_instalments_paid(self) -> None:
        plan = self.plan()
        package = self.read("packages", plan.package_id or "")
        assert plan.count is not None
        assert package.unlocked == self.lessons * plan.paid // plan.count
        assert package.credits_left == package.unlocked

    @precondition(lambda self: bool(self.plan_id))
    @invariant()
    def totals_add_up(self) -> None:
        plan = self.plan()
        assert plan.count is not None
        parts = [plan.amount_of(n) for n in range(plan.count)]
        assert sum(parts, Money(0, "DKK")) == self.price
        assert max(parts).amount - min(parts).amount <= 1
        paid = [c.amount for c in plan.charges if c.state is ChargeState.PAID]
        owed = [c.amount for c in plan.charges if c.state is not ChargeState.PAID]
        balance = self.app.balance(self.school_id, self.student_id)
        assert balance.paid == sum(paid, Money(0, "DKK"))
        assert balance.amount == sum(owed, Money(0, "DKK"))
        if plan.status is PlanStatus.COMPLETED:
            assert plan.paid == plan.count
            assert balance.paid == self.price

    def plan(self) -> PaymentPlan:
        return self.app.payment_plan(self.school_id, self.plan_id)

    def read(self, kind: str, ident: str) -> object:
        with self.uow() as uow:
            return getattr(uow, kind).get(ident)


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.services),
    ]
)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Fresh]]:
    if request.param == "memory":
        yield "memory", lambda: MemoryUnitOfWorkFactory(MemoryStore())
        return
    database = open_database(request.param, tmp_path, request)

    def emptied() -> UnitOfWorkFactory:
        empty_tables(database.engine)
        return database.uow

    try:
        yield request.param, emptied
    finally:
        database.dispose()


def test_an_instalment_plan_keeps_its_promises_whatever_happens(
    fresh: tuple[str, Fresh],
) -> None:
    backend, make = fresh
    machine = type("Lifecycle", (InstalmentLifecycle,), {"fresh": staticmethod(make)})
    examples = 60 if backend == "memory" else 12
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

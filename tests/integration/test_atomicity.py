"""A use case's state change and its outbox rows commit together or not at all.

A failure (an exception) is injected at a point hypothesis chooses while a real use case runs
on SQLite and PostgreSQL:

- `before_call` / `after_call`: the Nth call on a repository, the outbox or the inbox raises
  before, or just after, the call took effect in the unit of work;
- `statement`: the Nth SQL statement the use case sends raises (mid-flush: some rows written);
- `commit_before`: the commit fails (nothing written);
- `commit_after`: the commit succeeds and *then* the caller sees an error (a lost answer).

A failure after the database commit (`commit_after`, or a statement the unit of work sends
once committed, such as SQLite's next BEGIN) must leave all of the change; any other, none.

Afterwards the full contents of every table are compared with those before: the difference is
either nothing or exactly what a clean run of the same use case changes (measured once per
backend on a fresh school), never part of it; and every message has its outbox row and every
outbox row its message. When nothing was written, running the use case again succeeds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from attrs import define, field, frozen
from conftest import Database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from integration_support import (
    NOW,
    Snapshot,
    World,
    build_world,
    changes,
    dkk,
    snapshot,
)
from sqlalchemy import Engine, event, select

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.sql import tables
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.bookings import CancelledBy
from justdriving.domain.payments import PaymentMethod

MODES = ("before_call", "after_call", "statement", "commit_before", "commit_after")
# Every repository, outbox and inbox of the unit of work (declared on its base, Repositories).
REPOSITORIES = frozenset(
    name for kind in SqlUnitOfWork.__mro__ for name in vars(kind).get("__annotations__", {})
)
assert {"bookings", "payments", "outbox", "inbox"} <= REPOSITORIES


class InjectedFailure(Exception):
    """The failure this test injects; no use case knows it, so none may swallow it."""


@define
class Plan:
    """Fail the `at`-th (0-based) event of `mode`; counts every event it sees in `seen`."""

    mode: str
    at: int
    seen: Counter[str] = field(factory=Counter)
    fired: bool = False

    def tick(self, mode: str) -> bool:
        """Count one event of `mode`; True when it is the one that must fail."""
        self.seen[mode] += 1
        if self.fired or mode != self.mode or self.seen[mode] - 1 != self.at:
            return False
        self.fired = True
        return True


class FailingUnitOfWorkFactory:
    """Wraps SqlUnitOfWorkFactory: repositories, the commit and the engine's statements can
    each be made to fail at the point `plan` names, while a plan is armed."""

    def __init__(self, inner: SqlUnitOfWorkFactory, engine: Engine) -> None:
        self.inner = inner
        self.plan: Plan | None = None
        self.made: list[Any] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        self._engine = engine

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)

    def tick(self, mode: str) -> None:
        if self.plan is not None and self.plan.tick(mode):
            raise InjectedFailure(f"{mode} #{self.plan.at}")

    def _statement(self, *_: Any) -> None:
        self.tick("statement")

    def __call__(self) -> FailingUnitOfWork:
        inner = self.inner()
        self.made.append(inner)
        return FailingUnitOfWork(inner, self)

    def committed(self) -> bool:
        """Whether a unit of work made since the last `arm` has committed."""
        return any(uow.committed for uow in self.made)

    def arm(self, plan: Plan | None) -> None:
        self.plan, self.made = plan, []


class FailingUnitOfWork:
    def __init__(self, inner: Any, factory: FailingUnitOfWorkFactory) -> None:
        self._inner, self._factory = inner, factory

    def __enter__(self) -> FailingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)  # read each time: a rollback replaces repositories
        return _Failing(found, self._factory) if name in REPOSITORIES else found

    def commit(self) -> None:
        if self._factory.plan is not None and self._factory.plan.tick("commit_before"):
            self._inner.rollback()
            raise InjectedFailure("commit refused")
        self._inner.commit()
        self._factory.tick("commit_after")

    def rollback(self) -> None:
        self._inner.rollback()


class _Failing:
    def __init__(self, inner: Any, factory: FailingUnitOfWorkFactory) -> None:
        self._inner, self._factory = inner, factory

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._factory.tick("before_call")
            result = method(*args, **kwargs)
            self._factory.tick("after_call")
            return result

        return call


# The use cases ----------------------------------------------------------------------------

Act = Callable[[], object]


@define
class Scene:
    app: Application
    world: World
    clock: FrozenClock
    gateway: FakePaymentGateway


def _book(scene: Scene) -> Act:
    w = scene.world

    def act() -> object:
        return scene.app.book_lesson(
            w.school.id,
            teacher_id=w.teacher.id,
            student_ids=[w.student.id],
            booking_type_id=w.lesson.id,
            start=NOW + timedelta(days=2),
        )

    return act


def _cancel_late_with_fee(scene: Scene) -> Act:
    w = scene.world
    booking = scene.app.book_lesson(
        w.school.id,
        teacher_id=w.teacher.id,
        student_ids=[w.student.id],
        booking_type_id=w.lesson.id,
        start=NOW + timedelta(hours=5),  # inside 24 h: half the price is due
    )
    return lambda: scene.app.cancel_booking(w.school.id, booking.id, by=CancelledBy.STUDENT)


def _package_invoice(scene: Scene) -> str:
    w = scene.world
    _, invoice = scene.app.sell_package(
        w.school.id, w.student.id, booking_type_id=w.lesson.id, lessons=5, price=dkk("2250.00")
    )
    return invoice.id


def _record_manual_payment(scene: Scene) -> Act:
    w, invoice_id = scene.world, _package_invoice(scene)
    return lambda: scene.app.record_manual_payment(
        w.school.id,
        w.student.id,
        amount=dkk("2250.00"),
        method=PaymentMethod.CASH,
        invoice_id=invoice_id,
    )


def _refund_manual(scene: Scene) -> Act:
    w = scene.world
    payment = _record_manual_payment(scene)()
    return lambda: scene.app.refund(
        w.school.id,
        payment.id,  # type: ignore[attr-defined]
        amount=dkk("450.00"),
        reason="goodwill",
    )


def _paid_online(scene: Scene) -> str:
    started = scene.app.start_invoice_payment(scene.world.school.id, _package_invoice(scene))
    body, headers = scene.gateway.succeed(started.session.provider_payment_id)
    scene.app.receive_payment_webhook("fake", body, headers)
    return started.payment.id


def _refund_online(scene: Scene) -> Act:
    w, payment_id = scene.world, _paid_online(scene)
    return lambda: scene.app.refund(w.school.id, payment_id, amount=dkk("450.00"))


def _apply_payment_webhook(scene: Scene) -> Act:
    started = scene.app.start_invoice_payment(scene.world.school.id, _package_invoice(scene))
    body, headers = scene.gateway.succeed(started.session.provider_payment_id)
    [inbox_id] = scene.app.store_payment_webhook("fake", body, headers).stored
    return lambda: scene.app.apply_inbox_event(inbox_id)


SCENARIOS: dict[str, Callable[[Scene], Act]] = {
    "book_lesson": _book,
    "cancel_late_with_fee": _cancel_late_with_fee,
    "record_manual_payment": _record_manual_payment,
    "refund_manual": _refund_manual,
    "refund_online": _refund_online,
    "apply_payment_webhook": _apply_payment_webhook,
}


def _scene(uow: FailingUnitOfWorkFactory) -> Scene:
    clock = FrozenClock(NOW)
    gateway = FakePaymentGateway("fake", clock=clock)
    app = Application(
        uow=uow,
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": gateway}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
    )
    return Scene(app, build_world(app), clock, gateway)


def _messages_match_outbox(engine: Engine) -> None:
    """Every message has exactly one outbox row, and every message row in the outbox exists."""
    with engine.connect() as connection:
        messages = {row.id for row in connection.execute(select(tables.messages.c.id))}
        rows = connection.execute(select(tables.outbox.c.kind, tables.outbox.c.payload))
        referenced = [p["message_id"] for kind, p in rows if kind in ("send_sms", "send_email")]
    assert sorted(referenced) == sorted(messages)


# The tests --------------------------------------------------------------------------------


@frozen
class Reference:
    """What a clean run of a use case changes, and how many events of each mode it makes."""

    changes: dict[str, tuple[int, int, int]]
    events: Counter[str]


_REFERENCE: dict[tuple[str, str], Reference] = {}


@pytest.fixture
def failing(database: Database) -> Iterator[FailingUnitOfWorkFactory]:
    factory = FailingUnitOfWorkFactory(database.uow, database.engine)
    yield factory
    factory.close()


def _reference(database: Database, factory: FailingUnitOfWorkFactory, name: str) -> Reference:
    key = (database.url, name)
    if key not in _REFERENCE:
        act = SCENARIOS[name](_scene(factory))
        before = snapshot(database.engine)
        census = Plan("none", -1)
        assert _run(factory, census, act) is None
        found = changes(before, snapshot(database.engine))
        assert "outbox" in found, f"{name} writes no outbox row"
        _REFERENCE[key] = Reference(found, census.seen)
    return _REFERENCE[key]


def _run(factory: FailingUnitOfWorkFactory, plan: Plan, act: Act) -> BaseException | None:
    factory.arm(plan)
    try:
        act()
    except InjectedFailure as failure:
        return failure
    finally:
        factory.plan = None
    return None


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_failure_anywhere_leaves_the_change_and_its_outbox_rows_together_or_neither(
    database: Database,
    failing: FailingUnitOfWorkFactory,
    name: str,
    figures: Callable[[str], None],
) -> None:
    reference = _reference(database, failing, name)
    outcomes: Counter[str] = Counter()

    # Hypothesis picks the mode and which of that mode's events fails (among those a clean
    # run makes); every example builds a school of its own in the same database.
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mode=st.sampled_from(MODES), pick=st.integers(min_value=0, max_value=1000))
    def example(mode: str, pick: int) -> None:
        act = SCENARIOS[name](_scene(failing))
        before: Snapshot = snapshot(database.engine)
        plan = Plan(mode, pick % reference.events[mode.replace("commit_after", "commit_before")])

        failure = _run(failing, plan, act)

        found = changes(before, snapshot(database.engine))
        assert plan.fired, f"{plan} never fired: the use case ran differently"
        assert failure is not None, "the injected failure was swallowed"
        if failing.committed():  # failed after the commit (a lost answer): all of it is in
            assert found == reference.changes, f"{failure} after the commit, part only: {found}"
            outcomes[f"{mode}:all"] += 1
        else:
            assert found == {}, f"{failure} left part of the change behind: {found}"
            outcomes[f"{mode}:none"] += 1
            act()  # nothing half-done stands in the way of doing it again
            assert changes(before, snapshot(database.engine)) == reference.changes
        _messages_match_outbox(database.engine)

    example()
    events = ", ".join(f"{mode} {count}" for mode, count in sorted(reference.events.items()))
    figures(f"events in a clean run: {events}; outcomes: {dict(sorted(outcomes.items()))}")

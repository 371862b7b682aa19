"""Payment plans on the card on file: a package in instalments unlocks its credits as they are
paid, a monthly fee runs from its start to its end or cancellation; the worker bills what is
due from the stored plan, a declined charge climbs the retry ladder (only where a retry can
help) with the pay link to the student, and a plan whose charge fails for good pauses and
tells the school's staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import (
    BookingNotAllowed,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import PaymentMethod, PaymentStatus
from justdriving.domain.plans import ChargeState, PlanStatus
from justdriving.domain.schools import MessageType
from justdriving.domain.staff_alerts import AlertKind

from .support import (
    World,
    build_world,
    deliver,
    dkk,
    messages,
    outbox,
    record,
    snapshot,
    with_settings,
)

MONTH = timedelta(days=31)


def save_card(app: Application, world: World, gateway: FakePaymentGateway) -> None:
    setup = app.start_saving_card(world.school.id, world.student.id)
    deliver(app, gateway.complete_setup(setup.session.provider_setup_id, "pm_card_visa"))


def card_of(gateway: FakePaymentGateway) -> str:
    [card] = gateway.saved_cards
    return card


def instalments(app: Application, world: World, count: int = 3, price: str = "3000.00") -> str:
    plan = app.start_instalment_plan(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=10,
        price=dkk(price),
        instalments=count,
    )
    return plan.id


def run_worker(app: Application) -> None:
    app.charge_due_plans()
    app.relay_outbox()


def charged(gateway: FakePaymentGateway) -> list[str]:
    """The payments the provider charged successfully, once each."""
    return [c.payment_id for c in gateway.charges.values() if c.status is PaymentStatus.SUCCEEDED]


class TestInstalments:
    def test_each_instalment_is_charged_in_its_month_and_unlocks_its_credits(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)

        run_worker(app)
        plan = app.payment_plan(world.school.id, plan_id)
        package = record(store, "packages", plan.package_id)
        assert [c.state for c in plan.charges] == [ChargeState.PAID]
        assert (package.unlocked, package.credits_left) == (3, 3)

        run_worker(app)  # nothing more is due this month
        assert len(app.payment_plan(world.school.id, plan_id).charges) == 1

        for _ in range(2):
            clock.advance(MONTH)
            run_worker(app)
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.COMPLETED
        assert [c.amount for c in plan.charges] == [dkk("1000.00")] * 3
        assert record(store, "packages", plan.package_id).credits_left == 10
        assert len(charged(gateway)) == 3
        invoices = [record(store, "invoices", c.invoice_id) for c in plan.charges]
        assert {i.status for i in invoices} == {InvoiceStatus.PAID}
        balance = app.balance(world.school.id, world.student.id)
        assert (balance.invoiced, balance.paid, balance.amount) == (
            dkk("3000.00"),
            dkk("3000.00"),
            dkk("0.00"),
        )

    def test_a_restarted_worker_neither_skips_nor_repeats_a_charge(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)
        clock.advance(3 * MONTH)  # the worker was down for three months

        app.charge_due_plans()
        app.charge_due_plans()
        app.relay_outbox()
        app.relay_outbox()

        plan = app.payment_plan(world.school.id, plan_id)
        assert [c.sequence for c in plan.charges] == [0, 1, 2]
        assert len(charged(gateway)) == 3
        assert plan.status is PlanStatus.COMPLETED

    def test_a_retryable_decline_is_retried_on_the_ladder_with_the_pay_link_sent_once(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)
        run_worker(app)
        clock.advance(MONTH)
        gateway.decline_next_charge(card_of(gateway), "insufficient_funds")

        run_worker(app)
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.charges[1].declines == 1
        assert plan.status is PlanStatus.ACTIVE
        assert len(messages(store, MessageType.PAYMENT_DECLINED)) == 2  # SMS and email
        [retry] = [
            r for r in outbox(store, OutboxKind.CHARGE_CUSTOMER) if "retry" in r.idempotency_key
        ]
        assert retry.next_attempt_at == clock.now() + timedelta(days=1)

        app.relay_outbox()  # not yet due
        assert len(charged(gateway)) == 1
        clock.advance(timedelta(days=1))
        run_worker(app)

        plan = app.payment_plan(world.school.id, plan_id)
        assert [c.state for c in plan.charges] == [ChargeState.PAID, ChargeState.PAID]
        assert len(charged(gateway)) == 2
        assert record(store, "packages", plan.package_id).credits_left == 6
        assert len(messages(store, MessageType.PAYMENT_DECLINED)) == 2

    def test_a_stolen_card_is_never_retried_and_the_plan_pauses_until_the_invoice_is_paid(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)
        run_worker(app)
        clock.advance(MONTH)
        gateway.decline_next_charge(card_of(gateway), "stolen_card")

        run_worker(app)
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.PAUSED
        assert plan.charges[1].state is ChargeState.FAILED
        assert not [
            r for r in outbox(store, OutboxKind.CHARGE_CUSTOMER) if "retry" in r.idempotency_key
        ]
        [alert] = store.records("staff_alerts")
        assert alert.kind is AlertKind.PLAN_PAUSED
        assert alert.ops_path == f"/ops/invoices/{plan.charges[1].invoice_id}"

        clock.advance(MONTH)
        run_worker(app)  # paused: the third instalment is not billed
        assert len(app.payment_plan(world.school.id, plan_id).charges) == 2

        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("1000.00"),
            method=PaymentMethod.CASH,
            invoice_id=plan.charges[1].invoice_id,
        )
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.ACTIVE
        run_worker(app)
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.COMPLETED
        assert record(store, "packages", plan.package_id).credits_left == 10

    def test_retries_end_after_the_ladder_and_the_plan_pauses(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world, count=2)
        for _ in range(4):
            gateway.decline_next_charge(card_of(gateway), "insufficient_funds")

        for _ in range(5):
            run_worker(app)
            clock.advance(timedelta(days=8))

        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.charges[0].declines == 4
        assert plan.status is PlanStatus.PAUSED
        assert len(gateway.charges) == 4  # the first and three retries, then no more
        assert charged(gateway) == []
        assert len(messages(store, MessageType.PAYMENT_DECLINED)) == 4  # first and last

    def test_a_cancelled_plan_bills_and_retries_nothing_more(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)
        gateway.decline_next_charge(card_of(gateway), "insufficient_funds")
        run_worker(app)

        app.cancel_plan(world.school.id, plan_id)
        clock.advance(2 * MONTH)
        run_worker(app)

        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.CANCELLED
        assert len(plan.charges) == 1
        assert charged(gateway) == []
        with pytest.raises(InvalidTransition):
            app.cancel_plan(world.school.id, plan_id)


class TestRecurringFee:
    def test_a_monthly_fee_runs_from_its_start_until_its_end(
        self, app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway
    ) -> None:
        save_card(app, world, gateway)
        start = clock.now() + timedelta(days=2)
        plan = app.start_recurring_fee(
            world.school.id,
            world.student.id,
            amount=dkk("99.00"),
            description="Teori-app",
            starts_at=start,
            ends_at=start + timedelta(days=70),  # three months begin before it
        )
        run_worker(app)
        assert app.payment_plan(world.school.id, plan.id).charges == []

        for _ in range(5):
            clock.advance(timedelta(days=30))
            run_worker(app)

        plan = app.payment_plan(world.school.id, plan.id)
        assert [c.amount for c in plan.charges] == [dkk("99.00")] * 3
        assert plan.status is PlanStatus.COMPLETED
        assert len(charged(gateway)) == 3


class TestRefusals:
    def test_refusals_are_named_and_change_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        plan_id = instalments(app, world)
        other = app.register_school("Anden Skole", currency="DKK", timezone="Europe/Copenhagen")
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            instalments(app, world, count=1)
        with pytest.raises(InvalidInput):
            instalments(app, world, count=25)
        with pytest.raises(InvalidInput):
            instalments(app, world, price="0.02")
        with pytest.raises(InvalidInput):
            app.start_recurring_fee(
                world.school.id, world.student.id, amount=dkk("99.00"), description=" "
            )
        with pytest.raises(InvalidInput):
            app.start_recurring_fee(
                world.school.id,
                world.student.id,
                amount=Money(9900, "EUR"),
                description="Teori-app",
            )
        with pytest.raises(NotFound):
            app.cancel_plan(other.id, plan_id)
        with pytest.raises(NotFound):
            app.payment_plan(other.id, plan_id)

        assert snapshot(store) == before


class TestCardExpiry:
    def test_a_card_expiring_before_the_next_charge_is_noticed_once_with_the_card_page(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        app.change_school(
            world.school.id, settings={"card_page_url": "https://skole.example.dk/kort"}
        )
        save_card(app, world, gateway)  # the test cards expire at the end of December 2034
        clock.set(datetime(2034, 11, 20, 9, 0, tzinfo=UTC))
        plan = app.start_recurring_fee(
            world.school.id,
            world.student.id,
            amount=dkk("99.00"),
            description="Teori-app",
            starts_at=datetime(2035, 1, 2, 9, 0, tzinfo=UTC),
        )

        assert app.notice_expiring_cards() == 1
        assert app.notice_expiring_cards() == 0  # once per card

        [sms, mail] = sorted(messages(store, MessageType.CARD_EXPIRING), key=lambda m: m.channel)
        assert sms.context["last4"] == "4242"
        assert sms.context["expiry"] == "12/2034"
        assert sms.context["card_url"] == "https://skole.example.dk/kort"
        assert mail.context == sms.context
        assert app.payment_plan(world.school.id, plan.id).charges == []

    def test_a_card_that_outlives_the_next_charge_and_the_month_is_not_noticed(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        instalments(app, world)
        clock.set(datetime(2034, 10, 20, 9, 0, tzinfo=UTC))  # the next charge is long past due

        assert app.notice_expiring_cards() == 0
        assert messages(store, MessageType.CARD_EXPIRING) == []

    def test_a_card_expiring_this_month_is_noticed_whenever_the_next_charge_falls(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        clock.set(datetime(2034, 12, 3, 9, 0, tzinfo=UTC))
        app.start_recurring_fee(
            world.school.id, world.student.id, amount=dkk("99.00"), description="Teori-app"
        )

        assert app.notice_expiring_cards() == 1


class TestFeeRetries:
    """Retries are for any charge on file: a fee charged to the saved card too."""

    def no_show_fee(self, app: Application, clock: FrozenClock, world: World) -> str:
        booking = world.book(app, clock.now() + timedelta(days=1))
        clock.set(booking.slot.start + timedelta(minutes=15))
        [invoice] = app.mark_no_show(world.school.id, booking.id).invoices
        return invoice.id

    def test_a_fee_declined_for_insufficient_funds_is_charged_again_the_next_day(
        self, app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        world = build_world(app, "Køreskolen Kort", with_settings(charge_fees_to_saved_card=True))
        save_card(app, world, gateway)
        gateway.decline_next_charge(card_of(gateway), "insufficient_funds")
        invoice_id = self.no_show_fee(app, clock, world)

        app.relay_outbox()
        assert record(store, "invoices", invoice_id).status is InvoiceStatus.OPEN
        clock.advance(timedelta(days=1))
        app.relay_outbox()

        assert record(store, "invoices", invoice_id).status is InvoiceStatus.PAID
        assert len(charged(gateway)) == 1

    def test_a_fee_declined_on_a_stolen_card_is_never_charged_again(
        self, app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        world = build_world(app, "Køreskolen Kort", with_settings(charge_fees_to_saved_card=True))
        save_card(app, world, gateway)
        gateway.decline_next_charge(card_of(gateway), "stolen_card")
        invoice_id = self.no_show_fee(app, clock, world)

        app.relay_outbox()
        for _ in range(3):
            clock.advance(timedelta(days=8))
            app.relay_outbox()

        assert record(store, "invoices", invoice_id).status is InvoiceStatus.OPEN
        assert len(gateway.charges) == 1
        [told, _] = messages(store, MessageType.PAYMENT_DECLINED)
        assert told.context["retrying"] == ""


class TestRefundingAnInstalmentPackage:
    def test_what_was_paid_less_the_lessons_taken_goes_back_and_the_plan_stops(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        plan_id = instalments(app, world)  # 10 lessons, 3 x 1000 kr.
        run_worker(app)
        package_id = app.payment_plan(world.school.id, plan_id).package_id or ""
        booking = world.book(app, clock.now() + timedelta(days=1), package_id=package_id)
        clock.set(booking.slot.end + timedelta(minutes=5))
        app.complete_lesson(world.school.id, booking.id)

        [refund] = app.refund_package(world.school.id, package_id)
        clock.advance(MONTH)
        run_worker(app)

        assert refund.amount == dkk("500.00")  # 1000 paid, one lesson at 500 taken
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.CANCELLED
        assert len(plan.charges) == 1


class TestOverdueRule:
    def test_a_paused_plans_unpaid_instalment_blocks_booking_once_overdue(
        self, app: Application, clock: FrozenClock, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        strict = with_settings(block_booking_when_overdue=True, block_booking_overdue_days=3)
        world = build_world(app, "Streng Skole", strict)
        save_card(app, world, gateway)
        gateway.decline_next_charge(card_of(gateway), "stolen_card")
        plan_id = instalments(app, world)
        run_worker(app)
        assert app.payment_plan(world.school.id, plan_id).status is PlanStatus.PAUSED

        clock.advance(timedelta(days=14 + 4))  # due after 14 days, then over 3 days overdue
        with pytest.raises(BookingNotAllowed, match="overdue"):
            world.book(app, clock.now() + timedelta(days=2))
        assert store.count("bookings") == 0


class TestANewCard:
    def test_a_new_card_saved_pays_the_charge_that_paused_the_plan_and_it_resumes(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        save_card(app, world, gateway)
        gateway.decline_next_charge(card_of(gateway), "lost_card")
        plan_id = instalments(app, world)
        run_worker(app)
        assert app.payment_plan(world.school.id, plan_id).status is PlanStatus.PAUSED

        setup = app.start_saving_card(world.school.id, world.student.id)
        deliver(app, gateway.complete_setup(setup.session.provider_setup_id, "pm_card_mastercard"))
        app.relay_outbox()

        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.ACTIVE
        assert [c.state for c in plan.charges] == [ChargeState.PAID]
        [paid] = charged(gateway)
        assert record(store, "payments", paid).charged_method_id != card_of_first(gateway)


def card_of_first(gateway: FakePaymentGateway) -> str:
    return next(iter(gateway.saved_cards))

"""The reactions that tell staff, move payment plans and keep a student's contact in the books,
each run on its own in a plain unit of work (no other reaction runs), and the table entries
that register them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from justdriving.adapters.memory import FakePaymentGateway, MemoryStore
from justdriving.adapters.memory.persistence import MemoryUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.events import (
    CustomerChargeRequiresAction,
    DomainEvent,
    InvoicePaid,
    PaymentHeldForReview,
    PaymentMethodSaved,
    PaymentOverpaid,
    PlanPaused,
    RefundFailed,
    StudentDetailsChanged,
)
from justdriving.domain.ids import InvoiceId, PaymentId, RefundId, new_id
from justdriving.domain.outbox import OutboxKind
from justdriving.domain.payments import Payment, PaymentMethod, PaymentPurpose
from justdriving.domain.plans import ChargeState, PlanStatus
from justdriving.domain.refunds import Refund
from justdriving.domain.saved_methods import customer_id_for
from justdriving.domain.schools import AccountingCustomerMode, InvoiceService, MessageType
from justdriving.domain.services.followups.alerts import (
    alert_overpaid,
    alert_payment_held,
    alert_refund_failed,
)
from justdriving.domain.services.followups.books import records_of, student_to_books
from justdriving.domain.services.followups.charges import charge_needs_student
from justdriving.domain.services.followups.plans import (
    card_saved_for_paused_plans,
    plan_invoice_paid,
    plan_paused,
)
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.reactions import BOOKS, REACTIONS
from justdriving.domain.staff_alerts import AlertKind
from justdriving.ports.persistence import UnitOfWork

from .support import NOW, World, build_world, deliver, dkk, messages, outbox, record, with_settings

E = TypeVar("E", bound=DomainEvent)
LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


def react(
    store: MemoryStore, reaction: Callable[[UnitOfWork, E, datetime], None], event: E
) -> None:
    with MemoryUnitOfWorkFactory(store)() as uow:
        reaction(uow, event, NOW)
        uow.commit()


def stored_payment(
    store: MemoryStore,
    world: World,
    invoice_id: str | None,
    method: PaymentMethod = PaymentMethod.ONLINE,
) -> Payment:
    """A payment of 500 kr. stored as it starts, its follow-ups not carried out."""
    payment = Payment(
        id=PaymentId(new_id("pay")),
        school_id=world.school.id,
        student_id=world.student.id,
        amount=dkk("500.00"),
        method=method,
        purpose=PaymentPurpose.INVOICE if invoice_id else PaymentPurpose.DEPOSIT,
        created_at=NOW,
        invoice_id=InvoiceId(invoice_id) if invoice_id else None,
        provider="fake",
    )
    with MemoryUnitOfWorkFactory(store)() as uow:
        uow.payments.add(payment)
        uow.commit()
    return payment


def issued_invoice(app: Application, world: World) -> str:
    draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
    return app.issue_invoice(world.school.id, draft.id).id


def plan_with_first_charge(
    app: Application, world: World, gateway: FakePaymentGateway, decline: str | None = None
) -> str:
    """A plan of three instalments whose first charge was made (declined with `decline`)."""
    setup = app.start_saving_card(world.school.id, world.student.id)
    deliver(app, gateway.complete_setup(setup.session.provider_setup_id, "pm_card_visa"))
    if decline:
        [card] = gateway.saved_cards
        gateway.decline_next_charge(card, decline)
    plan = app.start_instalment_plan(
        world.school.id,
        world.student.id,
        booking_type_id=world.lesson.id,
        lessons=9,
        price=dkk("3000.00"),
        instalments=3,
    )
    app.charge_due_plans()
    app.relay_outbox()
    return plan.id


class TestStaffAlerts:
    def test_the_alert_reactions_are_registered_with_their_events(self) -> None:
        assert REACTIONS[PaymentHeldForReview] == (alert_payment_held,)
        assert REACTIONS[PaymentOverpaid] == (alert_overpaid,)
        assert REACTIONS[RefundFailed] == (alert_refund_failed,)
        assert REACTIONS[PlanPaused] == (plan_paused,)

    def test_a_payment_held_for_review_tells_staff_its_student_and_amount_with_its_row(
        self, world: World, store: MemoryStore
    ) -> None:
        payment = stored_payment(store, world, None)

        react(
            store,
            alert_payment_held,
            PaymentHeldForReview(NOW, payment.id, "amount_mismatch", school_id=world.school.id),
        )

        [alert] = store.records("staff_alerts")
        assert alert.kind is AlertKind.PAYMENT_HELD
        assert alert.school_id == world.school.id
        assert alert.ops_path == f"/ops/payments/{payment.id}"
        assert world.student.name in alert.text
        assert "500,00 kr." in alert.text

    def test_an_overpayment_tells_staff_the_excess_not_the_whole_payment(
        self, world: World, store: MemoryStore
    ) -> None:
        payment = stored_payment(store, world, None)

        react(
            store,
            alert_overpaid,
            PaymentOverpaid(NOW, payment.id, dkk("125.50"), school_id=world.school.id),
        )

        [alert] = store.records("staff_alerts")
        assert alert.kind is AlertKind.OVERPAYMENT
        assert "125,50 kr." in alert.text
        assert "500,00 kr." not in alert.text

    def test_a_refused_refund_tells_staff_the_refund_amount_at_its_payment(
        self, world: World, store: MemoryStore
    ) -> None:
        payment = stored_payment(store, world, None, PaymentMethod.CASH)
        with MemoryUnitOfWorkFactory(store)() as uow:
            paid = uow.payments.get(payment.id)
            paid.record_manual(NOW)
            refund = Refund.against(
                paid, id=RefundId(new_id("re")), amount=dkk("200.00"), reason="goodwill", now=NOW
            )
            uow.refunds.add(refund)
            uow.commit()

        react(store, alert_refund_failed, RefundFailed(NOW, refund.id, school_id=world.school.id))

        [alert] = store.records("staff_alerts")
        assert alert.kind is AlertKind.REFUND_REFUSED
        assert alert.ops_path == f"/ops/payments/{payment.id}"
        assert "200,00 kr." in alert.text

    def test_alerts_are_worded_in_the_schools_language(
        self, app: Application, store: MemoryStore
    ) -> None:
        english = build_world(app, "Riverside Driving", with_settings(language="en"))
        payment = stored_payment(store, english, None)

        react(
            store,
            alert_overpaid,
            PaymentOverpaid(NOW, payment.id, dkk("10.00"), school_id=english.school.id),
        )

        [alert] = store.records("staff_alerts")
        assert "DKK 10.00" in alert.text

    def test_a_paused_plan_tells_staff_the_charge_that_failed_with_its_invoice(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        plan_id = plan_with_first_charge(app, world, gateway)
        before = len(store.records("staff_alerts"))
        plan = app.payment_plan(world.school.id, plan_id)

        react(store, plan_paused, PlanPaused(NOW, plan_id, 0, school_id=world.school.id))

        alerts = store.records("staff_alerts")
        assert len(alerts) == before + 1
        assert alerts[-1].kind is AlertKind.PLAN_PAUSED
        assert alerts[-1].ops_path == f"/ops/invoices/{plan.charges[0].invoice_id}"
        assert "1.000,00 kr." in alerts[-1].text


class TestChargesThatNeedTheStudent:
    def test_the_reaction_is_registered_with_its_event(self) -> None:
        assert REACTIONS[CustomerChargeRequiresAction] == (charge_needs_student,)

    def test_a_charge_waiting_for_the_student_sends_the_pay_link_for_its_invoice(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice_id = issued_invoice(app, world)
        payment = stored_payment(store, world, invoice_id)

        react(
            store,
            charge_needs_student,
            CustomerChargeRequiresAction(
                NOW,
                payment.id,
                world.student.id,
                "authentication_required",
                school_id=world.school.id,
            ),
        )

        sent = messages(store, MessageType.PAYMENT_ACTION_REQUIRED)
        assert sorted(m.channel for m in sent) == ["email", "sms"]
        assert {m.context["invoice_id"] for m in sent} == {invoice_id}
        assert {m.context["payment_id"] for m in sent} == {payment.id}

    def test_a_deposit_charged_on_file_waiting_for_the_student_sends_nothing(
        self, world: World, store: MemoryStore
    ) -> None:
        payment = stored_payment(store, world, None)

        react(
            store,
            charge_needs_student,
            CustomerChargeRequiresAction(
                NOW,
                payment.id,
                world.student.id,
                "authentication_required",
                school_id=world.school.id,
            ),
        )

        assert messages(store, MessageType.PAYMENT_ACTION_REQUIRED) == []


class TestPlans:
    def test_the_plan_reactions_are_registered_with_their_events(self) -> None:
        assert plan_invoice_paid in REACTIONS[InvoicePaid]
        assert REACTIONS[PaymentMethodSaved] == (card_saved_for_paused_plans,)

    def test_a_paid_instalment_invoice_unlocks_its_share_of_the_package_once(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        plan_id = plan_with_first_charge(app, world, gateway, decline="insufficient_funds")
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.package_id is not None
        assert record(store, "packages", plan.package_id).unlocked == 0
        event = InvoicePaid(NOW, plan.charges[0].invoice_id, school_id=world.school.id)

        react(store, plan_invoice_paid, event)
        react(store, plan_invoice_paid, event)  # delivered again: nothing more unlocks

        assert app.payment_plan(world.school.id, plan_id).charges[0].state is ChargeState.PAID
        assert record(store, "packages", plan.package_id).unlocked == 3

    def test_a_paid_invoice_of_no_plan_changes_no_plan(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice_id = issued_invoice(app, world)
        before = {s.record.id: s.revision for _, s in store.rows("plans")}

        react(store, plan_invoice_paid, InvoicePaid(NOW, invoice_id, school_id=world.school.id))

        assert {s.record.id: s.revision for _, s in store.rows("plans")} == before

    def test_a_card_saved_while_a_plan_is_paused_queues_the_failed_charge_on_that_card(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        plan_id = plan_with_first_charge(app, world, gateway, decline="lost_card")
        plan = app.payment_plan(world.school.id, plan_id)
        assert plan.status is PlanStatus.PAUSED
        customer_id = customer_id_for(world.school.id, world.student.id, "fake")
        queued = len(outbox(store, OutboxKind.CHARGE_CUSTOMER))
        event = PaymentMethodSaved(
            NOW, customer_id, world.student.id, "fake", "pm_new", school_id=world.school.id
        )

        react(store, card_saved_for_paused_plans, event)

        rows = outbox(store, OutboxKind.CHARGE_CUSTOMER)[queued:]
        [row] = rows
        assert row.payload["invoice_id"] == plan.charges[0].invoice_id
        assert row.idempotency_key.endswith("-on-pm_new")

    def test_a_card_saved_with_no_paused_plan_charges_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        plan_with_first_charge(app, world, gateway)
        customer_id = customer_id_for(world.school.id, world.student.id, "fake")
        queued = len(outbox(store, OutboxKind.CHARGE_CUSTOMER))

        react(
            store,
            card_saved_for_paused_plans,
            PaymentMethodSaved(
                NOW, customer_id, world.student.id, "fake", "pm_new", school_id=world.school.id
            ),
        )

        assert len(outbox(store, OutboxKind.CHARGE_CUSTOMER)) == queued


class TestStudentInTheBooks:
    def test_the_reaction_is_registered_with_its_event(self) -> None:
        assert BOOKS[StudentDetailsChanged] == (student_to_books,)

    def test_a_new_phone_number_is_queued_for_the_students_contact(
        self, world: World, store: MemoryStore
    ) -> None:
        event = StudentDetailsChanged(NOW, world.student.id, ("phone",), school_id=world.school.id)

        react(store, student_to_books, event)

        [row] = outbox(store, OutboxKind.PUSH_ACCOUNTING)
        assert [(kind.value, id) for kind, id in records_of(row)] == [("contact", world.student.id)]

    def test_a_change_the_books_do_not_hold_queues_nothing(
        self, world: World, store: MemoryStore
    ) -> None:
        event = StudentDetailsChanged(
            NOW, world.student.id, ("language",), school_id=world.school.id
        )

        react(store, student_to_books, event)

        assert outbox(store, OutboxKind.PUSH_ACCOUNTING) == []

    def test_a_school_with_one_shared_students_contact_queues_nothing(
        self, app: Application, store: MemoryStore
    ) -> None:
        shared = build_world(
            app,
            "Fælles Køreskole",
            with_settings(accounting_customer_mode=AccountingCustomerMode.SHARED),
        )
        event = StudentDetailsChanged(NOW, shared.student.id, ("name",), school_id=shared.school.id)

        react(store, student_to_books, event)

        assert outbox(store, OutboxKind.PUSH_ACCOUNTING) == []

"""The reactions to payment events, each on its own, and the table that registers them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.adapters.memory.persistence import MemoryUnitOfWorkFactory
from justdriving.application import Application
from justdriving.domain.deposits import DepositStatus
from justdriving.domain.events import (
    DomainEvent,
    InvoiceIssued,
    PaymentAuthorized,
    PaymentCanceled,
    PaymentSucceeded,
    RefundSucceeded,
)
from justdriving.domain.ids import PaymentId, RefundId, new_id
from justdriving.domain.invoices import InvoiceStatus
from justdriving.domain.messages import Channel
from justdriving.domain.packages import PackageStatus
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import Payment, PaymentMethod, PaymentPurpose
from justdriving.domain.refunds import Refund
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.followups.invoices import invoice_issued
from justdriving.domain.services.followups.payments import (
    payment_authorized,
    payment_canceled,
    payment_succeeded,
)
from justdriving.domain.services.followups.refunds import refund_booked
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.reactions import REACTIONS
from justdriving.ports.persistence import UnitOfWork

from .support import NOW, World, build_world, deliver, dkk, messages, record, with_settings

E = TypeVar("E", bound=DomainEvent)
LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


def react(
    store: MemoryStore, reaction: Callable[[UnitOfWork, E, datetime], None], event: E
) -> None:
    """Run one reaction in a plain unit of work (no other reaction runs) and commit."""
    with MemoryUnitOfWorkFactory(store)() as uow:
        reaction(uow, event, NOW)
        uow.commit()


def cash_paid(store: MemoryStore, world: World, invoice_id: str, amount: str) -> Payment:
    """A cash payment stored as succeeded, its follow-ups not yet carried out."""
    payment = Payment(
        id=PaymentId(new_id("pay")),
        school_id=world.school.id,
        student_id=world.student.id,
        amount=dkk(amount),
        method=PaymentMethod.CASH,
        purpose=PaymentPurpose.INVOICE,
        created_at=NOW,
        invoice_id=invoice_id,
        provider="manual",
    )
    payment.record_manual(NOW)
    with MemoryUnitOfWorkFactory(store)() as uow:
        uow.payments.add(payment)
        uow.commit()
    return payment


@pytest.fixture
def deposit_world(app: Application) -> World:
    return build_world(app, "Depositum Skole", with_settings(deposit_required=True))


def test_each_payment_event_is_registered_with_its_one_reaction() -> None:
    assert REACTIONS[PaymentSucceeded] == (payment_succeeded,)
    assert REACTIONS[PaymentAuthorized] == (payment_authorized,)
    assert REACTIONS[PaymentCanceled] == (payment_canceled,)


class TestPaymentSucceeded:
    def test_a_succeeded_payment_is_counted_against_its_invoice_and_its_receipt_queued(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
        invoice = app.issue_invoice(world.school.id, draft.id)
        payment = cash_paid(store, world, invoice.id, "300.00")
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.OPEN

        react(
            store,
            payment_succeeded,
            PaymentSucceeded(NOW, payment.id, payment.amount, school_id=payment.school_id),
        )

        stored = record(store, "invoices", invoice.id)
        assert stored.status is InvoiceStatus.PARTIALLY_PAID
        assert stored.outstanding == dkk("200.00")
        assert record(store, "payments", payment.id).unapplied == dkk("0.00")
        receipts = messages(store, MessageType.PAYMENT_RECEIPT)
        assert len(receipts) == 2  # SMS and email
        assert {m.context["payment_id"] for m in receipts} == {payment.id}
        assert {m.created_at for m in receipts} == {NOW}

    def test_a_payment_that_pays_a_package_invoice_in_full_activates_the_package(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        package, invoice = app.sell_package(
            world.school.id,
            world.student.id,
            booking_type_id=world.lesson.id,
            lessons=5,
            price=dkk("2250.00"),
        )
        payment = cash_paid(store, world, invoice.id, "2250.00")
        assert record(store, "packages", package.id).status is PackageStatus.AWAITING_PAYMENT

        react(
            store,
            payment_succeeded,
            PaymentSucceeded(NOW, payment.id, payment.amount, school_id=payment.school_id),
        )

        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        assert record(store, "packages", package.id).status is PackageStatus.ACTIVE

    def test_a_charged_deposit_is_secured(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(days=10))
        started = app.start_deposit(deposit_world.school.id, booking.id)
        with MemoryUnitOfWorkFactory(store)() as uow:
            paid = uow.payments.get(started.payment.id)
            paid.apply(
                ProviderPaymentEvent(
                    provider="fake",
                    event_id="evt_1",
                    kind=PaymentEventKind.SUCCEEDED,
                    occurred_at=NOW,
                    raw_type="payment.succeeded",
                    payment_id=paid.id,
                    amount=dkk("100.00"),
                )
            )
            uow.commit()

        react(
            store,
            payment_succeeded,
            PaymentSucceeded(NOW, paid.id, paid.amount, school_id=paid.school_id),
        )

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.SECURED
        assert deposit.booking_id == booking.id
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2


class TestCardHolds:
    def test_an_authorized_hold_secures_its_deposit(
        self, app: Application, deposit_world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(hours=72))
        started = app.start_deposit(deposit_world.school.id, booking.id)

        react(
            store,
            payment_authorized,
            PaymentAuthorized(NOW, started.payment.id, school_id=started.payment.school_id),
        )

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.SECURED
        assert deposit.booking_id == booking.id

    def test_a_canceled_hold_gives_its_secured_deposit_back(
        self,
        app: Application,
        deposit_world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(hours=72))
        started = app.start_deposit(deposit_world.school.id, booking.id)
        deliver(app, gateway.authorize(started.session.provider_payment_id))

        react(
            store,
            payment_canceled,
            PaymentCanceled(NOW, started.payment.id, school_id=started.payment.school_id),
        )

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.RETURNED

    def test_a_canceled_payment_without_a_secured_deposit_changes_nothing(
        self, app: Application, deposit_world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        booking = deposit_world.book(app, clock.now() + timedelta(hours=72))
        started = app.start_deposit(deposit_world.school.id, booking.id)

        react(
            store,
            payment_canceled,
            PaymentCanceled(NOW, started.payment.id, school_id=started.payment.school_id),
        )

        [deposit] = store.records("deposits")
        assert deposit.status is DepositStatus.PENDING


class TestThroughTheFacade:
    def test_a_manual_payment_is_applied_and_acknowledged_exactly_once(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
        invoice = app.issue_invoice(world.school.id, draft.id)

        payment = app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("500.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )

        stored = record(store, "invoices", invoice.id)
        assert (stored.status, stored.paid) == (InvoiceStatus.PAID, dkk("500.00"))
        assert record(store, "payments", payment.id).unapplied == dkk("0.00")
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2


def test_a_succeeded_refund_is_registered_with_its_booking() -> None:
    assert REACTIONS[RefundSucceeded] == (refund_booked,)


def test_a_succeeded_refund_corrects_its_invoice_and_tells_the_student(
    app: Application, world: World, store: MemoryStore
) -> None:
    invoice = app.issue_invoice(
        world.school.id, app.draft_invoice(world.school.id, world.student.id, [LESSON]).id
    )
    payment = cash_paid(store, world, invoice.id, "300.00")
    react(
        store,
        payment_succeeded,
        PaymentSucceeded(NOW, payment.id, payment.captured, school_id=payment.school_id),
    )
    with MemoryUnitOfWorkFactory(store)() as uow:  # succeeded, its booking not carried out yet
        paid = uow.payments.get(payment.id)
        refund = Refund.against(
            paid, id=RefundId(new_id("re")), amount=dkk("300.00"), reason="goodwill", now=NOW
        )
        refund.succeed(paid, NOW)
        uow.refunds.add(refund)
        uow.commit()

    react(
        store,
        refund_booked,
        RefundSucceeded(NOW, refund.id, refund.amount, school_id=refund.school_id),
    )

    stored = record(store, "invoices", invoice.id)
    assert (stored.refunded, stored.credited, stored.outstanding) == (
        dkk("300.00"),
        dkk("300.00"),
        dkk("200.00"),
    )
    assert stored.status is InvoiceStatus.OPEN
    assert record(store, "refunds", refund.id).credit_note_id is not None
    confirmations = messages(store, MessageType.REFUND_CONFIRMATION)
    assert sorted(m.channel for m in confirmations) == ["email", "sms"]  # one each


def test_an_issued_invoice_is_registered_with_its_email() -> None:
    assert REACTIONS[InvoiceIssued] == (invoice_issued,)


def test_an_issued_invoice_queues_its_message_with_number_amount_and_due_date(
    app: Application, world: World, store: MemoryStore
) -> None:
    draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
    with MemoryUnitOfWorkFactory(store)() as uow:  # issued, its follow-up not carried out yet
        invoice = uow.invoices.get(draft.id)
        invoice.issue("7", NOW, timedelta(days=14))
        uow.commit()

    react(store, invoice_issued, InvoiceIssued(NOW, draft.id, "7", school_id=draft.school_id))

    [email] = messages(store, MessageType.INVOICE_ISSUED, Channel.EMAIL)
    assert email.context["invoice_number"] == "7"
    assert email.context["amount"] == "500,00 kr."
    assert email.context["due"]

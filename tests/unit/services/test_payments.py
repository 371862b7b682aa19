"""Payments: starting one online, provider webhooks (verified, deduplicated, checked), manual."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import (
    InvalidInput,
    InvalidSignature,
    NotFound,
    PaymentDeclined,
    PaymentNotAllowed,
    ProviderRejected,
    ProviderUnavailable,
)
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.money import Money
from justdriving.domain.outbox import InboxStatus, OutboxKind
from justdriving.domain.payments import EventOutcome, PaymentMethod, PaymentStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.payment_starts import StartedPayment

from .support import World, build_world, deliver, dkk, messages, record, snapshot, with_settings

LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))


def _invoice(app: Application, world: World) -> Invoice:
    draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
    return app.issue_invoice(world.school.id, draft.id)


def _started(app: Application, world: World) -> tuple[Invoice, StartedPayment]:
    invoice = _invoice(app, world)
    return invoice, app.start_invoice_payment(world.school.id, invoice.id)


class TestStartInvoicePayment:
    def test_the_front_end_gets_a_client_secret_for_what_is_owed(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, started = _started(app, world)

        assert started.session.client_secret
        ref = started.session.provider_payment_id
        assert gateway.charges[ref].amount == dkk("500.00")
        assert gateway.charges[ref].payment_id == started.payment.id
        stored = record(store, "payments", started.payment.id)
        assert (stored.status, stored.invoice_id) == (PaymentStatus.PENDING, invoice.id)
        assert (stored.provider, stored.provider_payment_id) == ("fake", ref)
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.OPEN

    def test_a_part_paid_invoice_is_paid_for_what_is_left(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        invoice = _invoice(app, world)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("150.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )

        started = app.start_invoice_payment(world.school.id, invoice.id)

        assert started.payment.amount == dkk("350.00")

    def test_a_draft_invoice_cannot_be_paid(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [LESSON])
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed):
            app.start_invoice_payment(world.school.id, draft.id)
        assert snapshot(store) == before
        assert gateway.charges == {}

    def test_a_paid_invoice_cannot_be_paid_again(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, started = _started(app, world)
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed):
            app.start_invoice_payment(world.school.id, invoice.id)
        assert snapshot(store) == before
        assert len(gateway.charges) == 1

    def test_a_void_invoice_cannot_be_paid(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice = _invoice(app, world)
        app.void_invoice(world.school.id, invoice.id, reason="mistake")
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed):
            app.start_invoice_payment(world.school.id, invoice.id)
        assert snapshot(store) == before
        assert gateway.charges == {}

    def test_a_school_that_takes_manual_payments_only_cannot_start_one(
        self, app: Application, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        manual = build_world(app, "Kontant Skole", with_settings(payment_gateway=None))
        invoice = _invoice(app, manual)
        before = snapshot(store)

        with pytest.raises(PaymentNotAllowed):
            app.start_invoice_payment(manual.school.id, invoice.id)
        assert snapshot(store) == before
        assert gateway.charges == {}


class TestOnePaymentOpenPerInvoice:
    """However often a payment is started for one invoice, one is open and one can be paid."""

    def test_starting_again_gives_the_same_payment_and_checkout(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, first = _started(app, world)

        again = [app.start_invoice_payment(world.school.id, invoice.id) for _ in range(3)]

        assert {s.payment.id for s in again} == {first.payment.id}
        assert {(s.session.client_secret, s.session.redirect_url) for s in again} == {
            (first.session.client_secret, first.session.redirect_url)
        }
        assert len(gateway.charges) == 1
        assert len(store.records("payments")) == 1

    def test_ten_starts_at_once_make_one_payment_at_the_provider(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice = _invoice(app, world)
        gate = threading.Barrier(10)
        started: list[StartedPayment] = []

        def start() -> None:
            gate.wait()
            started.append(app.start_invoice_payment(world.school.id, invoice.id))

        threads = [threading.Thread(target=start) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert len(started) == 10
        assert len({s.payment.id for s in started}) == 1
        assert len({s.session.client_secret for s in started}) == 1
        assert len(gateway.charges) == 1
        assert len(store.records("payments")) == 1

    @pytest.mark.parametrize(
        "refusal",
        [
            ProviderRejected("fake", "amount too small", provider_code="amount_too_small"),
            ProviderUnavailable("fake", "timed out"),
        ],
    )
    def test_a_start_the_provider_refuses_stores_nothing_and_can_be_tried_again(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        gateway: FakePaymentGateway,
        refusal: Exception,
    ) -> None:
        invoice = _invoice(app, world)
        before = snapshot(store)
        gateway.fail_next(refusal)

        with pytest.raises(type(refusal)):
            app.start_invoice_payment(world.school.id, invoice.id)

        assert snapshot(store) == before
        started = app.start_invoice_payment(world.school.id, invoice.id)
        assert record(store, "payments", started.payment.id).provider_payment_id in gateway.charges
        assert len(gateway.charges) == 1

    def test_a_deposit_the_provider_refuses_stores_nothing(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        clock: FrozenClock,
        gateway: FakePaymentGateway,
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=3)).id
        before = snapshot(store)
        gateway.decline_next()

        with pytest.raises(PaymentDeclined):
            app.start_deposit(world.school.id, booking)

        assert snapshot(store) == before

    def test_a_declined_card_is_tried_again_on_the_same_payment(
        self, app: Application, world: World, gateway: FakePaymentGateway
    ) -> None:
        invoice, first = _started(app, world)
        deliver(app, gateway.fail(first.session.provider_payment_id))

        again = app.start_invoice_payment(world.school.id, invoice.id)

        assert again.payment.id == first.payment.id
        assert len(gateway.charges) == 1

    def test_a_payment_for_an_amount_no_longer_owed_is_canceled_and_replaced(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, first = _started(app, world)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("200.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )

        second = app.start_invoice_payment(world.school.id, invoice.id)

        assert second.payment.id != first.payment.id
        assert second.payment.amount == dkk("300.00")
        [cancel] = [r for r in store.records("outbox") if r.kind is OutboxKind.CANCEL_PAYMENT]
        assert cancel.payload == {"payment_id": first.payment.id}
        app.relay_outbox()
        assert not gateway.is_payable(first.session.provider_payment_id)
        assert gateway.is_payable(second.session.provider_payment_id)

    def test_a_checkout_nobody_used_for_a_day_is_replaced_and_canceled(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        clock: FrozenClock,
        gateway: FakePaymentGateway,
    ) -> None:
        invoice, first = _started(app, world)
        clock.advance(timedelta(hours=22))
        assert app.start_invoice_payment(world.school.id, invoice.id).payment.id == first.payment.id

        clock.advance(timedelta(hours=2))
        second = app.start_invoice_payment(world.school.id, invoice.id)

        assert second.payment.id != first.payment.id
        [cancel] = [r for r in store.records("outbox") if r.kind is OutboxKind.CANCEL_PAYMENT]
        assert cancel.payload == {"payment_id": first.payment.id}

    def test_a_payment_paid_at_the_provider_but_not_yet_booked_is_given_again(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        """The payer paid; the provider's webhook is stored but not applied (the process
        stopped): a restart's start gives the same payment, which cannot be paid again."""
        invoice, first = _started(app, world)
        body, headers = gateway.succeed(first.session.provider_payment_id)
        app.store_payment_webhook("fake", body, headers)

        again = app.start_invoice_payment(world.school.id, invoice.id)

        assert again.payment.id == first.payment.id
        assert not gateway.is_payable(again.session.provider_payment_id)
        app.apply_inbox()
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        with pytest.raises(PaymentNotAllowed):
            app.start_invoice_payment(world.school.id, invoice.id)

    def test_starting_a_deposit_again_gives_the_same_payment(
        self, app: Application, world: World, clock: FrozenClock, gateway: FakePaymentGateway
    ) -> None:
        booking = world.book(app, clock.now() + timedelta(days=3)).id

        first = app.start_deposit(world.school.id, booking)
        again = app.start_deposit(world.school.id, booking)

        assert again.payment.id == first.payment.id
        assert again.session == first.session
        assert len(gateway.charges) == 1


class TestPaymentWebhook:
    def test_the_succeeded_event_pays_the_invoice_and_queues_a_receipt(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, started = _started(app, world)

        outcomes = deliver(app, gateway.succeed(started.session.provider_payment_id))

        assert outcomes == [EventOutcome.APPLIED]
        payment = record(store, "payments", started.payment.id)
        assert (payment.status, payment.captured) == (PaymentStatus.SUCCEEDED, dkk("500.00"))
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        receipts = messages(store, MessageType.PAYMENT_RECEIPT)
        assert len(receipts) == 2
        assert {m.context["amount"] for m in receipts} == {"500,00 kr."}
        [event] = store.records("inbox")
        assert event.status is InboxStatus.PROCESSED
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_the_same_event_delivered_fifty_times_has_one_effect(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        _, started = _started(app, world)
        delivery = gateway.succeed(started.session.provider_payment_id)

        outcomes = deliver(app, delivery, times=50)

        assert outcomes == [EventOutcome.APPLIED] + [EventOutcome.IGNORED] * 49
        assert store.count("inbox") == 1
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2
        assert record(store, "payments", started.payment.id).captured == dkk("500.00")
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_second_succeeded_event_with_another_id_changes_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        _, started = _started(app, world)
        ref = started.session.provider_payment_id
        deliver(app, gateway.succeed(ref))

        assert deliver(app, gateway.succeed(ref)) == [EventOutcome.IGNORED]
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_failure_arriving_after_success_changes_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        invoice, started = _started(app, world)
        ref = started.session.provider_payment_id
        failed = gateway.fail(ref)  # sent first by the provider, delivered last
        deliver(app, gateway.succeed(ref))
        before = {t: r for t, r in snapshot(store).items() if t != "inbox"}

        assert deliver(app, failed) == [EventOutcome.IGNORED]

        assert {t: r for t, r in snapshot(store).items() if t != "inbox"} == before
        assert record(store, "payments", started.payment.id).status is PaymentStatus.SUCCEEDED
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID

    @pytest.mark.parametrize(
        "reported", [Money(49_900, "DKK"), Money(50_000, "EUR")], ids=["amount", "currency"]
    )
    def test_a_payment_reported_for_another_amount_is_held_for_review(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        gateway: FakePaymentGateway,
        reported: Money,
    ) -> None:
        invoice, started = _started(app, world)

        outcomes = deliver(app, gateway.succeed(started.session.provider_payment_id, reported))

        assert outcomes == [EventOutcome.HELD]
        payment = record(store, "payments", started.payment.id)
        assert payment.status is PaymentStatus.HELD_FOR_REVIEW
        assert "expected" in (payment.failure_reason or "")
        stored = record(store, "invoices", invoice.id)
        assert (stored.status, stored.paid) == (InvoiceStatus.OPEN, dkk("0.00"))
        assert messages(store, MessageType.PAYMENT_RECEIPT) == []
        assert app.balance(world.school.id, world.student.id).amount == dkk("500.00")

    def test_a_tampered_body_is_refused_and_nothing_is_stored(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        _, started = _started(app, world)
        body, headers = gateway.succeed(started.session.provider_payment_id)
        tampered = body.replace(b'"amount":50000', b'"amount":5000')
        assert tampered != body
        before = snapshot(store)

        with pytest.raises(InvalidSignature):
            app.receive_payment_webhook("fake", tampered, headers)
        assert snapshot(store) == before

    def test_a_webhook_signed_with_another_secret_is_refused(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        _, started = _started(app, world)
        body, _ = gateway.succeed(started.session.provider_payment_id)
        before = snapshot(store)

        with pytest.raises(InvalidSignature):
            app.receive_payment_webhook("fake", body, gateway.sign(body, clock.now(), "whsec_x"))
        with pytest.raises(InvalidSignature):
            app.receive_payment_webhook("fake", body, {})
        assert snapshot(store) == before

    def test_a_replayed_webhook_older_than_five_minutes_is_refused(
        self,
        app: Application,
        world: World,
        clock: FrozenClock,
        store: MemoryStore,
        gateway: FakePaymentGateway,
    ) -> None:
        _, started = _started(app, world)
        delivery = gateway.succeed(started.session.provider_payment_id)
        clock.advance(timedelta(minutes=6))
        before = snapshot(store)

        with pytest.raises(InvalidSignature):
            deliver(app, delivery)
        assert snapshot(store) == before

    def test_an_event_type_we_do_not_handle_is_kept_and_ignored(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        _, started = _started(app, world)

        outcomes = deliver(app, gateway.webhook("customer.created", {"id": "cus_1"}))

        assert outcomes == [EventOutcome.IGNORED]
        [event] = store.records("inbox")
        assert (event.event_type, event.status) == ("customer.created", InboxStatus.IGNORED)
        assert record(store, "payments", started.payment.id).status is PaymentStatus.PENDING

    def test_a_webhook_for_a_gateway_not_configured_here_is_refused(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        _, started = _started(app, world)
        body, headers = gateway.succeed(started.session.provider_payment_id)
        before = snapshot(store)

        with pytest.raises(NotFound, match="payment provider stripe"):
            app.receive_payment_webhook("stripe", body, headers)
        assert snapshot(store) == before


class TestRecordManualPayment:
    def test_cash_pays_the_invoice_at_once_and_queues_a_receipt(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _invoice(app, world)

        payment = app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("500.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
            reference="kvittering 17",
        )

        stored = record(store, "payments", payment.id)
        assert (stored.status, stored.captured, stored.reference) == (
            PaymentStatus.SUCCEEDED,
            dkk("500.00"),
            "kvittering 17",
        )
        assert record(store, "invoices", invoice.id).status is InvoiceStatus.PAID
        assert len(messages(store, MessageType.PAYMENT_RECEIPT)) == 2

    def test_paying_more_than_is_owed_leaves_the_student_in_credit(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _invoice(app, world)

        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("700.00"),
            method=PaymentMethod.BANK_TRANSFER,
            invoice_id=invoice.id,
        )

        stored = record(store, "invoices", invoice.id)
        assert (stored.status, stored.paid) == (InvoiceStatus.PAID, dkk("500.00"))
        balance = app.balance(world.school.id, world.student.id)
        assert balance.amount == dkk("-200.00")
        assert (balance.invoiced, balance.paid) == (dkk("500.00"), dkk("700.00"))

    def test_a_payment_on_account_without_an_invoice_is_credit(
        self, app: Application, world: World
    ) -> None:
        app.record_manual_payment(
            world.school.id, world.student.id, amount=dkk("300.00"), method=PaymentMethod.MOBILEPAY
        )

        assert app.balance(world.school.id, world.student.id).amount == dkk("-300.00")

    def test_online_is_not_a_manual_method(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.record_manual_payment(
                world.school.id,
                world.student.id,
                amount=dkk("100.00"),
                method=PaymentMethod.ONLINE,
            )
        assert snapshot(store) == before

    def test_another_students_invoice_cannot_be_paid_by_this_student(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _invoice(app, world)
        other = world.add_student(app)
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.record_manual_payment(
                world.school.id,
                other.id,
                amount=dkk("500.00"),
                method=PaymentMethod.CASH,
                invoice_id=invoice.id,
            )
        assert snapshot(store) == before

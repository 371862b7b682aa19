"""Refunds: partial and repeated, never above what was captured, online via the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FakePaymentGateway, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import (
    InvalidTransition,
    PaymentDeclined,
    ProviderRejected,
    ProviderUnavailable,
    RefundExceedsCaptured,
)
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.payments import EventOutcome, Payment, PaymentMethod
from justdriving.domain.refunds import RefundStatus
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem
from justdriving.domain.services.reactions import Reacting
from justdriving.domain.services.steps.refunds import open_refund
from justdriving.domain.tax import TaxRate

from .support import NOW, World, deliver, dkk, messages, outbox, record, snapshot

LESSON = LineItem(InvoiceService.LESSON, "Køretime", dkk("500.00"))
BOOK = LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("250.00"))


def _invoice(app: Application, world: World, *items: LineItem) -> Invoice:
    draft = app.draft_invoice(world.school.id, world.student.id, list(items or (LESSON,)))
    return app.issue_invoice(world.school.id, draft.id)


def _paid_in_cash(app: Application, world: World, amount: str = "500.00") -> Payment:
    invoice = _invoice(app, world)
    return app.record_manual_payment(
        world.school.id,
        world.student.id,
        amount=dkk(amount),
        method=PaymentMethod.CASH,
        invoice_id=invoice.id,
    )


def _paid_online(
    app: Application, world: World, gateway: FakePaymentGateway, *items: LineItem
) -> Payment:
    invoice = _invoice(app, world, *items)
    started = app.start_invoice_payment(world.school.id, invoice.id)
    deliver(app, gateway.succeed(started.session.provider_payment_id))
    return started.payment


class TestManualRefund:
    def test_a_manual_refund_succeeds_at_once_with_a_credit_note_and_a_message(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world)

        refund = app.refund(world.school.id, payment.id, amount=dkk("100.00"), reason="goodwill")

        assert refund.status is RefundStatus.SUCCEEDED
        assert outbox(store, OutboxKind.REFUND_PAYMENT) == []
        note = record(store, "credit_notes", refund.credit_note_id)
        assert (note.invoice_id, note.totals.gross, note.reason) == (
            payment.invoice_id,
            dkk("100.00"),
            "goodwill",
        )
        assert record(store, "payments", payment.id).refunded == dkk("100.00")
        confirmations = messages(store, MessageType.REFUND_CONFIRMATION)
        assert {m.context["amount"] for m in confirmations} == {"100,00 kr."}
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_several_partial_refunds_add_up_to_at_most_what_was_captured(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world)
        app.refund(world.school.id, payment.id, amount=dkk("100.00"))
        app.refund(world.school.id, payment.id, amount=dkk("150.00"))
        before = snapshot(store)

        with pytest.raises(RefundExceedsCaptured):
            app.refund(world.school.id, payment.id, amount=dkk("250.01"))
        assert snapshot(store) == before

        rest = app.refund(world.school.id, payment.id)
        assert rest.amount == dkk("250.00")
        assert record(store, "payments", payment.id).refunded == dkk("500.00")
        assert [n.number for n in store.records("credit_notes")] == ["2", "3", "4"]
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_nothing_more_can_be_refunded_once_all_is_refunded(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world)
        app.refund(world.school.id, payment.id)
        before = snapshot(store)

        with pytest.raises(RefundExceedsCaptured):
            app.refund(world.school.id, payment.id, amount=dkk("0.01"))
        assert snapshot(store) == before

    def test_refunding_an_overpayment_leaves_the_invoice_paid_and_the_balance_at_zero(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world, "700.00")
        assert app.balance(world.school.id, world.student.id).amount == dkk("-200.00")

        app.refund(world.school.id, payment.id, amount=dkk("200.00"), reason="overpaid")

        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")
        assert store.records("credit_notes") == []


class TestOnlineRefund:
    def test_an_online_refund_waits_in_the_outbox_until_the_relay_asks_the_gateway(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)

        refund = app.refund(world.school.id, payment.id, amount=dkk("200.00"))

        assert refund.status is RefundStatus.PENDING
        [row] = outbox(store, OutboxKind.REFUND_PAYMENT)
        assert row.idempotency_key == refund.id
        assert gateway.refunds == {}
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

        app.relay_outbox()

        assert ("refund", refund.id) in gateway.calls
        [sent] = gateway.refunds.values()
        assert (sent.refund_id, sent.amount) == (refund.id, dkk("200.00"))
        stored = record(store, "refunds", refund.id)
        assert stored.status is RefundStatus.SUCCEEDED
        assert stored.provider_refund_id == sent.provider_refund_id
        assert record(store, "outbox", row.id).status is OutboxStatus.SENT
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_the_credit_note_mirrors_the_invoice_lines_and_their_vat(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway, LESSON, BOOK)
        refund = app.refund(world.school.id, payment.id, amount=dkk("300.00"))

        app.relay_outbox()

        note = record(store, "credit_notes", record(store, "refunds", refund.id).credit_note_id)
        invoice = record(store, "invoices", payment.invoice_id)
        assert [line.service for line in note.lines] == [line.service for line in invoice.lines]
        assert {line.vat_rate for line in note.lines} == {TaxRate(2500)}
        assert [line.unit_price for line in note.lines] == [dkk("200.00"), dkk("100.00")]
        assert (note.totals.gross, note.totals.vat) == (dkk("300.00"), dkk("60.00"))
        assert invoice.credited == dkk("300.00")
        assert invoice.status is InvoiceStatus.PAID

    def test_a_pending_refund_already_counts_against_what_can_be_refunded(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        app.refund(world.school.id, payment.id, amount=dkk("300.00"))
        before = snapshot(store)

        with pytest.raises(RefundExceedsCaptured):
            app.refund(world.school.id, payment.id, amount=dkk("300.00"))
        assert snapshot(store) == before

    def test_a_refund_the_provider_settles_later_is_finished_by_its_webhook(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        gateway.refund_status = RefundStatus.PENDING
        refund = app.refund(world.school.id, payment.id, amount=dkk("500.00"))
        app.relay_outbox()
        assert record(store, "refunds", refund.id).status is RefundStatus.PENDING
        [provider_refund_id] = gateway.refunds

        deliver(app, gateway.complete_refund(provider_refund_id), times=3)

        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED
        assert len(store.records("credit_notes")) == 1
        assert len(messages(store, MessageType.REFUND_CONFIRMATION)) == 2
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_refund_report_of_another_amount_is_held_for_review_not_booked(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        gateway.refund_status = RefundStatus.PENDING
        refund = app.refund(world.school.id, payment.id, amount=dkk("200.00"))
        app.relay_outbox()
        [provider_refund_id] = gateway.refunds
        gateway.refunds[provider_refund_id].amount = dkk("500.00")  # what the report says

        outcomes = deliver(app, gateway.complete_refund(provider_refund_id))

        assert outcomes == [EventOutcome.HELD]
        stored = record(store, "refunds", refund.id)
        assert stored.status is RefundStatus.PENDING
        assert stored.failure_reason == "provider reported 500.00 DKK, expected 200.00 DKK"
        assert record(store, "payments", payment.id).refund_reserved == dkk("200.00")
        assert store.records("credit_notes") == []
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_failed_refund_releases_the_amount_and_issues_no_credit_note(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        gateway.refund_status = RefundStatus.PENDING
        refund = app.refund(world.school.id, payment.id, amount=dkk("500.00"))
        app.relay_outbox()
        [provider_refund_id] = gateway.refunds

        deliver(app, gateway.complete_refund(provider_refund_id, succeeded=False))

        assert record(store, "refunds", refund.id).status is RefundStatus.FAILED
        assert record(store, "payments", payment.id).refundable == dkk("500.00")
        assert store.records("credit_notes") == []
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_payment_that_has_not_succeeded_cannot_be_refunded(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _invoice(app, world)
        started = app.start_invoice_payment(world.school.id, invoice.id)
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.refund(world.school.id, started.payment.id, amount=dkk("1.00"))
        assert snapshot(store) == before


class TestRefundOfAPartlyPaidInvoice:
    """Invoice 500, cash 300: a refund with its credit note leaves the invoice, the balance
    and the next payment asking for the same figure (gross - credited - (paid - refunded))."""

    @pytest.mark.parametrize(("refunded", "owed"), [("300.00", "200.00"), ("100.00", "200.00")])
    def test_the_invoice_asks_for_what_the_balance_says_is_owed(
        self, app: Application, world: World, store: MemoryStore, refunded: str, owed: str
    ) -> None:
        payment = _paid_in_cash(app, world, "300.00")

        app.refund(world.school.id, payment.id, amount=dkk(refunded))

        invoice = record(store, "invoices", payment.invoice_id)
        assert invoice.outstanding == dkk(owed)
        assert app.balance(world.school.id, world.student.id).amount == dkk(owed)
        started = app.start_invoice_payment(world.school.id, invoice.id)
        assert started.payment.amount == dkk(owed)

    def test_refunding_all_that_was_paid_reopens_the_invoice(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world, "300.00")

        app.refund(world.school.id, payment.id, amount=dkk("300.00"))

        invoice = record(store, "invoices", payment.invoice_id)
        assert invoice.status is InvoiceStatus.OPEN
        assert (invoice.paid, invoice.refunded, invoice.credited) == (
            dkk("300.00"),
            dkk("300.00"),
            dkk("300.00"),
        )

    def test_a_refund_of_a_paid_invoice_without_a_credit_note_makes_it_owed_again(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world, "500.00")
        # A refund that asks for no credit note, opened as a use case does (with reactions).
        with Reacting(app.uow, app.clock)() as uow:
            school = uow.schools.get(world.school.id)
            paid = uow.payments.get(payment.id)
            open_refund(
                uow, school, paid, dkk("100.00"), "card error", NOW, wants_credit_note=False
            )
            uow.commit()

        invoice = record(store, "invoices", payment.invoice_id)
        assert (invoice.status, invoice.outstanding) == (
            InvoiceStatus.PARTIALLY_PAID,
            dkk("100.00"),
        )
        assert app.balance(world.school.id, world.student.id).amount == dkk("100.00")
        assert app.overdue_invoices(world.school.id, world.student.id) == []


class TestRefundRefusedByTheProvider:
    @pytest.mark.parametrize(
        "refusal",
        [
            ProviderRejected("fake", "the charge is disputed", provider_code="charge_disputed"),
            PaymentDeclined("fake", "the refund was declined", provider_code="expired_card"),
        ],
    )
    def test_a_refused_refund_ends_failed_and_frees_its_amount(
        self,
        app: Application,
        world: World,
        store: MemoryStore,
        gateway: FakePaymentGateway,
        refusal: Exception,
    ) -> None:
        payment = _paid_online(app, world, gateway)
        refund = app.refund(world.school.id, payment.id, amount=dkk("300.00"))
        gateway.fail_next(refusal)

        report = app.relay_outbox()

        assert report.dead == 1
        stored = record(store, "refunds", refund.id)
        assert stored.status is RefundStatus.FAILED
        assert stored.failure_reason is not None
        assert refusal.provider_code in stored.failure_reason  # type: ignore[attr-defined]
        assert record(store, "payments", payment.id).refundable == dkk("500.00")
        assert store.records("credit_notes") == []
        later = app.refund(world.school.id, payment.id, amount=dkk("500.00"))
        app.relay_outbox()
        assert record(store, "refunds", later.id).status is RefundStatus.SUCCEEDED

    def test_a_refund_given_up_after_outages_stays_reserved_until_the_provider_says(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        refund = app.refund(world.school.id, payment.id, amount=dkk("300.00"))
        [row] = outbox(store, OutboxKind.REFUND_PAYMENT)
        with app.uow() as uow:  # the row is old enough to be given up at its next failure
            uow.outbox.get(row.id).created_at = NOW - timedelta(days=4)
            uow.commit()
        gateway.fail_next(ProviderUnavailable("fake", "timed out", possibly_done=True))

        app.relay_outbox()

        assert record(store, "outbox", row.id).status is OutboxStatus.DEAD
        assert record(store, "refunds", refund.id).status is RefundStatus.PENDING
        assert record(store, "payments", payment.id).refund_reserved == dkk("300.00")
        [provider_refund_id] = gateway.refunds  # the provider did refund before timing out
        deliver(app, gateway.complete_refund(provider_refund_id))
        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED
        assert record(store, "payments", payment.id).refunded == dkk("300.00")

    def test_retrying_the_dead_row_of_a_refused_refund_asks_the_provider_nothing(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = _paid_online(app, world, gateway)
        refund = app.refund(world.school.id, payment.id, amount=dkk("300.00"))
        gateway.fail_next(ProviderRejected("fake", "no", provider_code="charge_disputed"))
        app.relay_outbox()
        before = record(store, "payments", payment.id).refundable

        app.retry_outbox_message(outbox(store, OutboxKind.REFUND_PAYMENT)[0].id)
        app.relay_outbox()

        assert record(store, "refunds", refund.id).status is RefundStatus.FAILED
        assert record(store, "payments", payment.id).refundable == before
        assert gateway.refunds == {}


class TestOverpayment:
    """Money beyond what an invoice asks is held for review and given back with one call."""

    def _overpaid(self, app: Application, world: World, gateway: FakePaymentGateway) -> Payment:
        """A checkout of 500 that the payer completes after 200 was paid in cash meanwhile."""
        invoice = _invoice(app, world)
        started = app.start_invoice_payment(world.school.id, invoice.id)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("200.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )
        deliver(app, gateway.succeed(started.session.provider_payment_id))
        return started.payment

    def test_an_overpayment_is_listed_for_review_and_not_kept(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = self._overpaid(app, world, gateway)

        [found] = app.overpayments(world.school.id)

        assert (found.payment_id, found.amount, found.captured) == (
            payment.id,
            dkk("200.00"),
            dkk("500.00"),
        )
        assert record(store, "invoices", found.invoice_id).status is InvoiceStatus.PAID
        assert app.balance(world.school.id, world.student.id).amount == dkk("-200.00")

    def test_one_call_gives_the_overpayment_back_without_a_credit_note(
        self, app: Application, world: World, store: MemoryStore, gateway: FakePaymentGateway
    ) -> None:
        payment = self._overpaid(app, world, gateway)

        refund = app.refund_overpayment(world.school.id, payment.id)
        app.relay_outbox()

        assert refund.amount == dkk("200.00")
        assert record(store, "refunds", refund.id).status is RefundStatus.SUCCEEDED
        assert store.records("credit_notes") == []
        assert app.overpayments(world.school.id) == []
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")
        assert record(store, "invoices", payment.invoice_id).status is InvoiceStatus.PAID
        before = snapshot(store)
        with pytest.raises(RefundExceedsCaptured):
            app.refund_overpayment(world.school.id, payment.id)
        assert snapshot(store) == before

    def test_a_payment_that_paid_only_what_was_owed_has_nothing_to_give_back(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        payment = _paid_in_cash(app, world, "500.00")
        before = snapshot(store)

        with pytest.raises(RefundExceedsCaptured):
            app.refund_overpayment(world.school.id, payment.id)

        assert app.overpayments() == []
        assert snapshot(store) == before

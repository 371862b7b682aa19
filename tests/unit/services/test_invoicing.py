"""Invoices by hand: draft, issue with gap-free numbers per school, send again, void."""

from __future__ import annotations

from datetime import timedelta

import pytest

from justdriving.adapters.memory import FrozenClock, MemoryStore
from justdriving.application import Application
from justdriving.domain.errors import ConcurrencyConflict, InvalidInput, InvalidTransition
from justdriving.domain.invoices import Invoice, InvoiceStatus
from justdriving.domain.payments import PaymentMethod
from justdriving.domain.schools import InvoiceService, MessageType
from justdriving.domain.services.invoicing import LineItem

from .support import World, build_world, dkk, eur, messages, record, snapshot

BOOK = LineItem(InvoiceService.MATERIALS, "Teoribog", dkk("250.00"))
CAR = LineItem(InvoiceService.TEST_DAY_CAR_HIRE, "Bil til køreprøve", dkk("1200.00"))


def _issued(app: Application, world: World, *items: LineItem) -> Invoice:
    draft = app.draft_invoice(world.school.id, world.student.id, list(items or (BOOK,)))
    return app.issue_invoice(world.school.id, draft.id)


class TestDraftInvoice:
    def test_a_draft_has_no_number_sends_nothing_and_is_not_owed(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [BOOK, CAR])

        stored = record(store, "invoices", draft.id)
        assert (stored.status, stored.number) == (InvoiceStatus.DRAFT, None)
        assert stored.totals.gross == dkk("1450.00")
        assert stored.totals.vat == dkk("290.00")
        assert messages(store) == []
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    @pytest.mark.parametrize(
        "items",
        [
            [],
            [LineItem(InvoiceService.MATERIALS, "Book", eur("30.00"))],
            [LineItem(InvoiceService.MATERIALS, "  ", dkk("30.00"))],
            [LineItem(InvoiceService.MATERIALS, "Refund?", dkk("-30.00"))],
        ],
        ids=["no lines", "other currency", "no description", "negative price"],
    )
    def test_a_draft_needs_proper_lines(
        self, app: Application, world: World, store: MemoryStore, items: list[LineItem]
    ) -> None:
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.draft_invoice(world.school.id, world.student.id, items)
        assert snapshot(store) == before


class TestIssueInvoice:
    def test_issuing_numbers_the_invoice_sets_its_due_date_and_sends_it(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world)

        stored = record(store, "invoices", invoice.id)
        assert (stored.status, stored.number) == (InvoiceStatus.OPEN, "1")
        assert stored.issued_at == clock.now()
        assert stored.due_at == clock.now() + timedelta(days=14)
        sent = messages(store, MessageType.INVOICE_ISSUED)
        assert len(sent) == 2
        assert {m.context["amount"] for m in sent} == {"250,00 kr."}
        assert app.balance(world.school.id, world.student.id).amount == dkk("250.00")

    def test_numbers_follow_the_order_of_issue_not_of_drafting(
        self, app: Application, world: World
    ) -> None:
        first = app.draft_invoice(world.school.id, world.student.id, [BOOK])
        second = app.draft_invoice(world.school.id, world.student.id, [CAR])

        assert app.issue_invoice(world.school.id, second.id).number == "1"
        assert app.issue_invoice(world.school.id, first.id).number == "2"

    def test_each_school_has_its_own_gap_free_series(self, app: Application, world: World) -> None:
        other = build_world(app, "Vest Køreskole")

        numbers = [
            (w.school.name, _issued(app, w).number) for w in (world, other, world, other, world)
        ]

        assert numbers == [
            ("Køreskolen Øst", "1"),
            ("Vest Køreskole", "1"),
            ("Køreskolen Øst", "2"),
            ("Vest Køreskole", "2"),
            ("Køreskolen Øst", "3"),
        ]

    def test_an_invoice_is_issued_once_and_a_refused_issue_uses_no_number(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world)
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.issue_invoice(world.school.id, invoice.id)
        assert snapshot(store) == before
        assert _issued(app, world).number == "2"

    def test_an_issue_that_fails_to_commit_leaves_no_gap(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [BOOK])
        store.fail_next_commit(ConcurrencyConflict("someone else was first"))

        with pytest.raises(ConcurrencyConflict):
            app.issue_invoice(world.school.id, draft.id)

        assert record(store, "invoices", draft.id).status is InvoiceStatus.DRAFT
        assert messages(store) == []
        assert app.issue_invoice(world.school.id, draft.id).number == "1"


class TestSendInvoice:
    def test_an_open_invoice_is_sent_again_with_what_is_still_owed(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world, CAR)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("200.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )

        app.send_invoice(world.school.id, invoice.id)

        latest = messages(store, MessageType.INVOICE_ISSUED)[-1]
        assert latest.context["amount"] == "1.000,00 kr."

    def test_an_overdue_invoice_is_sent_as_a_reminder(
        self, app: Application, world: World, clock: FrozenClock, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world)
        clock.advance(timedelta(days=15))

        app.send_invoice(world.school.id, invoice.id)

        assert len(messages(store, MessageType.OVERDUE_REMINDER)) == 2
        assert [i.id for i in app.overdue_invoices(world.school.id, world.student.id)] == [
            invoice.id
        ]

    def test_a_draft_cannot_be_sent(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        draft = app.draft_invoice(world.school.id, world.student.id, [BOOK])
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.send_invoice(world.school.id, draft.id)
        assert snapshot(store) == before


class TestVoidInvoice:
    def test_voiding_keeps_the_number_and_books_it_out_with_a_credit_note(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world, BOOK, CAR)

        note = app.void_invoice(world.school.id, invoice.id, reason="sold by mistake")

        stored = record(store, "invoices", invoice.id)
        assert (stored.status, stored.number) == (InvoiceStatus.VOID, "1")
        assert note.number == "2"  # credit notes share the school's series
        assert note.invoice_id == invoice.id
        assert note.totals == stored.totals
        assert [line.service for line in note.lines] == [line.service for line in stored.lines]
        assert store.count("invoices") == 1
        assert app.balance(world.school.id, world.student.id).amount == dkk("0.00")

    def test_a_voided_invoice_is_no_longer_overdue_and_cannot_be_sent(
        self, app: Application, world: World, clock: FrozenClock
    ) -> None:
        invoice = _issued(app, world)
        app.void_invoice(world.school.id, invoice.id, reason="mistake")
        clock.advance(timedelta(days=30))

        assert app.overdue_invoices(world.school.id, world.student.id) == []
        with pytest.raises(InvalidTransition):
            app.send_invoice(world.school.id, invoice.id)

    def test_a_paid_or_part_paid_invoice_cannot_be_voided(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world, CAR)
        app.record_manual_payment(
            world.school.id,
            world.student.id,
            amount=dkk("100.00"),
            method=PaymentMethod.CASH,
            invoice_id=invoice.id,
        )
        before = snapshot(store)

        with pytest.raises(InvalidTransition):
            app.void_invoice(world.school.id, invoice.id, reason="changed my mind")
        assert snapshot(store) == before

    def test_voiding_needs_a_reason(
        self, app: Application, world: World, store: MemoryStore
    ) -> None:
        invoice = _issued(app, world)
        before = snapshot(store)

        with pytest.raises(InvalidInput):
            app.void_invoice(world.school.id, invoice.id, reason=" ")
        assert snapshot(store) == before

"""Invoices and credit notes: per-line VAT, gap-free numbers, payments applied, corrections."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from justdriving.domain.errors import InvalidInput, InvalidTransition, PaymentNotAllowed
from justdriving.domain.events import InvoiceIssued, InvoicePaid, InvoiceVoided
from justdriving.domain.ids import InvoiceId, SchoolId
from justdriving.domain.invoices import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceNumbering,
    InvoiceStatus,
)
from justdriving.domain.money import Money
from justdriving.domain.schools import InvoiceService
from justdriving.domain.tax import TaxRate

from .builders import NOW, VAT_25, dkk, draft_invoice, issued_invoice, line

invoice_lines = st.builds(
    InvoiceLine,
    service=st.sampled_from(InvoiceService),
    description=st.just("line"),
    quantity=st.integers(1, 20),
    unit_price=st.integers(0, 10_000_000).map(lambda a: Money(a, "DKK")),
    vat_rate=st.sampled_from([0, 1_250, 2_000, 2_500]).map(TaxRate),
    vat_inclusive=st.booleans(),
)
line_lists = st.lists(invoice_lines, min_size=1, max_size=8)


def _rounded_half_up(exact: Fraction) -> int:
    whole = exact.numerator // exact.denominator
    return whole + 1 if exact - whole >= Fraction(1, 2) else whole


def _expected_line_vat(line: InvoiceLine) -> int:
    amount, bp = line.unit_price.amount * line.quantity, line.vat_rate.basis_points
    divisor = 10_000 + bp if line.vat_inclusive else 10_000
    return _rounded_half_up(Fraction(amount * bp, divisor))


def _credit_note(invoice: Invoice, amount: Money | None = None, number: str = "CN-1"):
    return CreditNote.mirroring(
        invoice, id=InvoiceId(f"cn_{number}"), number=number, now=NOW, reason="x", amount=amount
    )


def _issued(lines: list[InvoiceLine]) -> Invoice:
    invoice = draft_invoice(*lines)
    invoice.issue("1", NOW, timedelta(days=14))
    return invoice


class TestTotals:
    @given(line_lists)
    def test_totals_are_the_sums_of_each_lines_own_rounded_amounts(self, lines):
        invoice = draft_invoice(*lines)
        gross = sum(
            line.unit_price.amount * line.quantity
            + (0 if line.vat_inclusive else _expected_line_vat(line))
            for line in lines
        )
        vat = sum(_expected_line_vat(line) for line in lines)

        totals = invoice.totals

        assert totals.vat == Money(vat, "DKK")
        assert totals.gross == Money(gross, "DKK")
        assert totals.net + totals.vat == totals.gross

    def test_vat_is_rounded_per_line_and_not_on_the_document_total(self):
        # 1 øre at 25 % is 0.25 øre of VAT: each line rounds to 0; the total would round 0.75 to 1.
        invoice = draft_invoice(*[line("0.01", vat_inclusive=False) for _ in range(3)])

        assert invoice.totals.vat == dkk("0.00")
        assert invoice.totals.gross == dkk("0.03")

    def test_a_line_charges_its_quantity_times_its_unit_price(self):
        invoice = draft_invoice(line("125.00", quantity=4))

        assert invoice.totals.gross == dkk("500.00")
        assert invoice.totals.vat == dkk("100.00")

    @pytest.mark.parametrize(
        "build",
        [
            lambda: line(quantity=0),
            lambda: line(quantity=-1),
            lambda: line("-1.00"),
            lambda: InvoiceLine(InvoiceService.LESSON, "  ", 1, dkk("1.00"), VAT_25),
        ],
    )
    def test_a_line_needs_a_positive_quantity_a_non_negative_price_and_a_description(self, build):
        with pytest.raises(InvalidInput):
            build()


class TestIssuing:
    def test_issuing_numbers_and_dates_the_invoice(self):
        invoice = draft_invoice(line())

        invoice.issue("2025-17", NOW, timedelta(days=14))

        assert invoice.status is InvoiceStatus.OPEN
        assert invoice.number == "2025-17"
        assert invoice.issued_at == NOW
        assert invoice.due_at == NOW + timedelta(days=14)
        assert invoice.events.pending == [
            InvoiceIssued(NOW, invoice.id, "2025-17", school_id=invoice.school_id)
        ]

    def test_an_empty_invoice_cannot_be_issued(self):
        invoice = draft_invoice()

        with pytest.raises(InvalidTransition):
            invoice.issue("1", NOW, timedelta(days=14))
        assert invoice.status is InvoiceStatus.DRAFT
        assert invoice.number is None

    def test_an_issued_invoice_cannot_be_issued_again_and_keeps_its_number(self):
        invoice = issued_invoice(number="1")

        with pytest.raises(InvalidTransition):
            invoice.issue("2", NOW, timedelta(days=14))
        assert invoice.number == "1"

    def test_a_draft_owes_nothing(self):
        assert draft_invoice(line()).outstanding == dkk("0.00")


class TestAddingLines:
    def test_no_line_can_be_added_once_the_invoice_is_issued(self):
        invoice = issued_invoice(line())

        with pytest.raises(InvalidTransition):
            invoice.add_line(line("50.00", service=InvoiceService.MATERIALS))
        assert len(invoice.lines) == 1

    def test_a_line_in_another_currency_is_refused(self):
        invoice = draft_invoice(line())

        with pytest.raises(InvalidInput):
            invoice.add_line(line("50.00", currency="EUR"))
        assert len(invoice.lines) == 1


class TestPayingAnInvoice:
    def test_a_partial_payment_leaves_it_partially_paid(self):
        invoice = issued_invoice(line("500.00"))

        excess = invoice.apply_payment(dkk("200.00"), NOW)

        assert excess == dkk("0.00")
        assert invoice.status is InvoiceStatus.PARTIALLY_PAID
        assert invoice.outstanding == dkk("300.00")

    def test_paying_what_is_owed_marks_it_paid(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_payment(dkk("200.00"), NOW)

        excess = invoice.apply_payment(dkk("300.00"), NOW)

        assert excess == dkk("0.00")
        assert invoice.status is InvoiceStatus.PAID
        assert invoice.outstanding == dkk("0.00")
        assert InvoicePaid(NOW, invoice.id, school_id=invoice.school_id) in invoice.events.pending

    def test_an_overpayment_returns_the_excess(self):
        invoice = issued_invoice(line("500.00"))

        excess = invoice.apply_payment(dkk("650.00"), NOW)

        assert excess == dkk("150.00")
        assert invoice.paid == dkk("500.00")
        assert invoice.status is InvoiceStatus.PAID

    @given(st.lists(st.integers(1, 60_000), min_size=1, max_size=10))
    def test_what_is_applied_plus_what_is_returned_is_always_what_was_paid(self, payments):
        invoice = issued_invoice(line("500.00"))
        handed_over = returned = dkk("0.00")
        for minor_units in payments:
            if invoice.status is InvoiceStatus.PAID:
                break
            handed_over += Money(minor_units, "DKK")
            returned += invoice.apply_payment(Money(minor_units, "DKK"), NOW)

        assert invoice.paid + returned == handed_over
        assert invoice.paid <= invoice.totals.gross
        assert invoice.outstanding == invoice.totals.gross - invoice.paid

    def test_a_draft_cannot_be_paid(self):
        invoice = draft_invoice(line())

        with pytest.raises(PaymentNotAllowed):
            invoice.apply_payment(dkk("1.00"), NOW)
        assert invoice.paid == dkk("0.00")

    def test_a_paid_invoice_takes_no_further_payment(self):
        invoice = issued_invoice(line("1.00"))
        invoice.apply_payment(dkk("1.00"), NOW)

        with pytest.raises(PaymentNotAllowed):
            invoice.apply_payment(dkk("1.00"), NOW)
        assert invoice.paid == dkk("1.00")

    @pytest.mark.parametrize("amount", ["0.00", "-1.00"])
    def test_a_payment_must_be_a_positive_amount(self, amount):
        invoice = issued_invoice(line())

        with pytest.raises(InvalidInput):
            invoice.apply_payment(dkk(amount), NOW)
        assert invoice.paid == dkk("0.00")


class TestVoiding:
    def test_an_open_unpaid_invoice_can_be_voided_and_keeps_its_number(self):
        invoice = issued_invoice(number="42")

        invoice.void(NOW)

        assert invoice.status is InvoiceStatus.VOID
        assert invoice.number == "42"
        assert invoice.outstanding == dkk("0.00")
        assert InvoiceVoided(NOW, invoice.id, school_id=invoice.school_id) in invoice.events.pending

    def test_a_partly_paid_invoice_cannot_be_voided(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_payment(dkk("1.00"), NOW)

        with pytest.raises(InvalidTransition):
            invoice.void(NOW)
        assert invoice.status is InvoiceStatus.PARTIALLY_PAID

    def test_a_paid_invoice_cannot_be_voided(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_payment(dkk("500.00"), NOW)

        with pytest.raises(InvalidTransition):
            invoice.void(NOW)
        assert invoice.status is InvoiceStatus.PAID

    def test_a_draft_cannot_be_voided(self):
        invoice = draft_invoice(line())

        with pytest.raises(InvalidTransition):
            invoice.void(NOW)
        assert invoice.status is InvoiceStatus.DRAFT


class TestOverdue:
    def test_an_open_invoice_is_overdue_only_after_its_due_date(self):
        invoice = issued_invoice()
        assert invoice.due_at is not None

        assert not invoice.is_overdue(invoice.due_at)
        assert invoice.is_overdue(invoice.due_at + timedelta(seconds=1))

    def test_a_partly_paid_invoice_past_its_due_date_is_overdue(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_payment(dkk("100.00"), NOW)

        assert invoice.is_overdue(NOW + timedelta(days=15))

    def test_paid_void_and_draft_invoices_are_never_overdue(self):
        paid = issued_invoice(line("500.00"))
        paid.apply_payment(dkk("500.00"), NOW)
        void = issued_invoice()
        void.void(NOW)
        later = NOW + timedelta(days=365)

        assert not paid.is_overdue(later)
        assert not void.is_overdue(later)
        assert not draft_invoice(line()).is_overdue(later)


class TestNumbering:
    @given(st.text(max_size=5), st.integers(1, 10_000), st.integers(1, 30))
    def test_numbers_are_taken_in_sequence_without_gaps_or_repeats(self, prefix, start, count):
        series = InvoiceNumbering(id=SchoolId("sch_1"), prefix=prefix, next_number=start)

        numbers = [series.take() for _ in range(count)]

        assert numbers == [f"{prefix}{n}" for n in range(start, start + count)]
        assert series.next_number == start + count

    def test_a_new_school_starts_at_number_one(self):
        assert InvoiceNumbering(id=SchoolId("sch_1"), prefix="F-").take() == "F-1"


class TestCreditNotes:
    def test_a_full_credit_note_mirrors_every_line(self):
        invoice = issued_invoice(
            line("500.00", quantity=2),
            line("149.95", service=InvoiceService.MATERIALS, vat_inclusive=False),
            line("300.00", service=InvoiceService.TEST_DAY_CAR_HIRE, rate=TaxRate(0)),
        )

        note = _credit_note(invoice)

        assert note.lines == invoice.lines
        assert note.totals == invoice.totals
        assert note.invoice_id == invoice.id
        assert (note.school_id, note.student_id) == (invoice.school_id, invoice.student_id)

    @given(line_lists, st.data())
    def test_a_partial_credit_note_covers_exactly_its_amount_with_the_invoices_own_lines(
        self, lines, data
    ):
        invoice = _issued(lines)
        gross = invoice.totals.gross.amount
        assume(gross >= 2)
        amount = Money(data.draw(st.integers(1, gross - 1), label="credit"), "DKK")
        invoiced = {(each.service, each.vat_rate) for each in invoice.lines}

        note = _credit_note(invoice, amount)

        assert note.totals.gross == amount
        assert note.totals.net + note.totals.vat == amount
        assert all((each.service, each.vat_rate) in invoiced for each in note.lines)

    @given(line_lists, st.lists(st.integers(-100, 200_000), min_size=1, max_size=8))
    def test_credit_notes_never_exceed_what_is_left_to_credit(self, lines, credits):
        invoice = _issued(lines)
        gross = invoice.totals.gross
        for n, minor_units in enumerate(credits):
            before = invoice.credited
            amount = Money(minor_units, "DKK")
            if 0 < minor_units <= invoice.creditable.amount:
                invoice.apply_credit(_credit_note(invoice, amount, str(n)), NOW)
                assert invoice.credited == before + amount
            else:
                with pytest.raises(InvalidInput):
                    _credit_note(invoice, amount, str(n))
                assert invoice.credited == before
            assert Money.zero("DKK") <= invoice.credited <= gross

    def test_a_credit_note_for_the_rest_covers_only_what_is_left(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_credit(_credit_note(invoice, dkk("200.00")), NOW)

        rest = _credit_note(invoice, number="CN-2")

        assert rest.totals.gross == dkk("300.00")

    def test_a_credit_note_beyond_what_is_left_is_refused_even_if_built_earlier(self):
        invoice = issued_invoice(line("500.00"))
        first = _credit_note(invoice, dkk("400.00"), "CN-1")
        second = _credit_note(invoice, dkk("400.00"), "CN-2")
        invoice.apply_credit(first, NOW)

        with pytest.raises(InvalidInput):
            invoice.apply_credit(second, NOW)
        assert invoice.credited == dkk("400.00")

    def test_applying_a_credit_note_lowers_what_the_student_owes(self):
        invoice = issued_invoice(line("500.00"))

        invoice.apply_credit(_credit_note(invoice, dkk("200.00")), NOW)

        assert invoice.outstanding == dkk("300.00")
        assert invoice.creditable == dkk("300.00")

    def test_crediting_a_paid_invoice_leaves_the_student_in_credit(self):
        invoice = issued_invoice(line("500.00"))
        invoice.apply_payment(dkk("500.00"), NOW)

        invoice.apply_credit(_credit_note(invoice, dkk("100.00")), NOW)

        assert invoice.outstanding == dkk("-100.00")

    def test_a_credit_note_for_another_invoice_is_refused(self):
        invoice = issued_invoice(line("500.00"), id="inv_1")
        other = issued_invoice(line("500.00"), id="inv_2")

        with pytest.raises(InvalidInput):
            invoice.apply_credit(_credit_note(other, dkk("100.00")), NOW)
        assert invoice.credited == dkk("0.00")

    def test_a_draft_cannot_be_credited(self):
        with pytest.raises(InvalidTransition):
            _credit_note(draft_invoice(line()))

"""A student's balance: invoiced - credited - paid + refunded, counting only what happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from justdriving.domain.balances import Balance
from justdriving.domain.ids import InvoiceId, RefundId
from justdriving.domain.invoices import CreditNote, Invoice
from justdriving.domain.money import Money
from justdriving.domain.payment_events import PaymentEventKind, ProviderPaymentEvent
from justdriving.domain.payments import Payment
from justdriving.domain.refunds import Refund

from .builders import NOW, captured_payment, dkk, draft_invoice, line, online_payment

ZERO = Money.zero("DKK")


def _invoice(gross: Money, n: int, *, issue: bool = True) -> Invoice:
    invoice = draft_invoice(line(str(gross.to_decimal())), id=f"inv_{n}")
    if issue:
        invoice.issue(str(n), NOW, timedelta(days=14))
    return invoice


def _credit(invoice: Invoice, amount: Money | None = None) -> CreditNote:
    note = CreditNote.mirroring(
        invoice, id=InvoiceId(f"cn_{invoice.id}"), number="CN", now=NOW, reason="x", amount=amount
    )
    invoice.apply_credit(note, NOW)
    return note


def _online(amount: Money, n: int, kind: PaymentEventKind | None, reported: Money) -> Payment:
    payment = online_payment(amount, id=f"pay_{n}")
    if kind is not None:
        payment.apply(
            ProviderPaymentEvent("stripe", f"evt_{n}", kind, NOW, kind.value, amount=reported)
        )
    return payment


def _refund(payment: Payment, amount: Money, n: int) -> Refund:
    return Refund.against(payment, id=RefundId(f"re_{n}"), amount=amount, reason="", now=NOW)


def _balance(
    invoices: Sequence[Invoice] = (),
    notes: Sequence[CreditNote] = (),
    payments: Sequence[Payment] = (),
    refunds: Sequence[Refund] = (),
) -> Balance:
    return Balance.of("DKK", invoices, notes, payments, refunds)


class TestBalance:
    def test_an_issued_invoice_is_owed_until_it_is_paid(self):
        invoice = _invoice(dkk("500.00"), 1)
        payment = captured_payment(dkk("500.00"))

        assert _balance([invoice]).amount == dkk("500.00")
        assert _balance([invoice], payments=[payment]).amount == ZERO

    def test_a_draft_invoice_is_not_owed(self):
        draft = _invoice(dkk("500.00"), 1, issue=False)

        assert _balance([draft]).amount == ZERO

    def test_an_overpayment_leaves_the_student_in_credit(self):
        balance = _balance([_invoice(dkk("500.00"), 1)], payments=[captured_payment(dkk("600.00"))])

        assert balance.amount == dkk("-100.00")

    def test_a_payment_that_has_not_succeeded_pays_nothing(self):
        pending = _online(dkk("500.00"), 1, None, dkk("500.00"))
        failed = _online(dkk("500.00"), 2, PaymentEventKind.FAILED, dkk("500.00"))
        held = _online(dkk("500.00"), 3, PaymentEventKind.SUCCEEDED, dkk("5.00"))
        authorized = _online(dkk("500.00"), 4, PaymentEventKind.AUTHORIZED, dkk("500.00"))

        balance = _balance(
            [_invoice(dkk("500.00"), 1)], payments=[pending, failed, held, authorized]
        )

        assert balance.paid == ZERO
        assert balance.amount == dkk("500.00")

    def test_only_a_succeeded_refund_is_owed_back_to_the_balance(self):
        payment = captured_payment(dkk("500.00"))
        done = _refund(payment, dkk("100.00"), 1)
        done.succeed(payment, NOW)
        failed = _refund(payment, dkk("100.00"), 2)
        failed.fail(payment, NOW, "declined")
        pending = _refund(payment, dkk("100.00"), 3)

        balance = _balance(
            [_invoice(dkk("500.00"), 1)], payments=[payment], refunds=[done, failed, pending]
        )

        assert balance.refunded == dkk("100.00")
        assert balance.amount == dkk("100.00")

    def test_a_voided_invoice_and_its_credit_note_cancel_out(self):
        invoice = _invoice(dkk("500.00"), 1)
        invoice.void(NOW)
        note = _credit(invoice)

        assert _balance([invoice], [note]).amount == ZERO

    @settings(max_examples=75)
    @given(st.data())
    def test_the_balance_is_invoiced_less_credited_less_paid_plus_refunded(self, data):
        draw = data.draw
        money = st.integers(1, 500_000).map(lambda a: Money(a, "DKK"))
        invoices, notes, payments, refunds = [], [], [], []
        invoiced = credited = paid = refunded = ZERO

        for n in range(draw(st.integers(0, 5), label="invoices")):
            gross, state = draw(money), draw(st.sampled_from(["draft", "open", "credited"]))
            invoice = _invoice(gross, n, issue=state != "draft")
            invoices.append(invoice)
            if state == "draft":
                continue
            invoiced += gross
            if state == "credited":
                amount = Money(draw(st.integers(1, gross.amount)), "DKK")
                notes.append(_credit(invoice, amount))
                credited += amount

        for n in range(draw(st.integers(0, 5), label="payments")):
            amount = draw(money)
            kind = draw(st.sampled_from([None, *PaymentEventKind]), label="event")
            matches = draw(st.booleans(), label="reported amount matches")
            payment = _online(amount, n, kind, amount if matches else amount + dkk("0.01"))
            payments.append(payment)
            if not (kind is PaymentEventKind.SUCCEEDED and matches):
                continue
            paid += amount
            for m in range(draw(st.integers(0, 3), label="refunds")):
                if not payment.refundable:
                    break
                share = Money(draw(st.integers(1, payment.refundable.amount)), "DKK")
                refund = _refund(payment, share, n * 10 + m)
                refunds.append(refund)
                outcome = draw(st.sampled_from(["pending", "succeeded", "failed"]))
                if outcome == "succeeded":
                    refund.succeed(payment, NOW)
                    refunded += share
                elif outcome == "failed":
                    refund.fail(payment, NOW, "declined")

        balance = _balance(invoices, notes, payments, refunds)

        assert balance == Balance(invoiced, credited, paid, refunded)
        assert balance.amount == invoiced - credited - paid + refunded

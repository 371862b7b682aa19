"""Overpayments: found once, whether money came in above the invoice or the invoice was
credited after it was paid."""

from __future__ import annotations

from datetime import timedelta

from attrs import evolve

from justdriving.domain.ids import InvoiceId
from justdriving.domain.invoices import CreditNote
from justdriving.domain.overpayments import overpayments
from justdriving.domain.payments import Payment

from .builders import NOW, captured_payment, dkk, issued_invoice


def _paid(invoice_id: str, amount: str, id: str, minutes: int) -> Payment:
    payment = captured_payment(dkk(amount), id=id)
    payment.invoice_id = InvoiceId(invoice_id)
    payment.status_at = NOW + timedelta(minutes=minutes)
    return payment


def test_what_the_invoice_did_not_need_is_an_overpayment() -> None:
    invoice = issued_invoice()
    payment = _paid(invoice.id, "650.00", "pay_1", 0)
    payment.unapplied = invoice.apply_payment(payment.unapplied, NOW)

    [found] = overpayments([payment], {invoice.id: invoice})

    assert (found.payment_id, found.amount) == ("pay_1", dkk("150.00"))


def test_an_invoice_credited_after_payment_shares_its_excess_newest_payment_first() -> None:
    invoice = issued_invoice()
    older, newer = _paid(invoice.id, "300.00", "pay_1", 0), _paid(invoice.id, "200.00", "pay_2", 5)
    for payment in (older, newer):
        payment.unapplied = invoice.apply_payment(payment.unapplied, NOW)
    note = CreditNote.mirroring(
        invoice,
        id=InvoiceId("crn_1"),
        number="2",
        now=NOW,
        reason="cancelled",
        amount=dkk("250.00"),
    )
    invoice.apply_credit(note, NOW)

    found = overpayments([older, newer], {invoice.id: invoice})

    assert invoice.outstanding == dkk("-250.00")
    assert [(o.payment_id, o.amount) for o in found] == [
        ("pay_2", dkk("200.00")),
        ("pay_1", dkk("50.00")),
    ]


def test_money_paid_on_account_with_no_invoice_is_credit_not_an_overpayment() -> None:
    payment = evolve(captured_payment(dkk("400.00")), invoice_id=None)

    assert overpayments([payment], {}) == []

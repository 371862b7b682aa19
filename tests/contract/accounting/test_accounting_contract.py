"""Accounting clients: ordered per-record results, idempotent batches, a batch size limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
)
from justdriving.domain.errors import ProviderRejected
from justdriving.domain.money import Money

if TYPE_CHECKING:
    from conftest import AccountingBackend

ISSUED = datetime(2025, 3, 14, tzinfo=UTC)
LINE = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "1000", "U25", True)


def a_contact(n: int) -> AccountingContact:
    return AccountingContact(record_id=f"stu_{n}", name=f"Student {n}", email=f"s{n}@example.dk")


def an_invoice(
    record_id: str = "inv_1", number: str = "1", lines: tuple[AccountingLine, ...] = (LINE,)
) -> AccountingInvoice:
    return AccountingInvoice(
        record_id=record_id,
        number=number,
        contact_id="stu_1",
        issued_at=ISSUED,
        due_at=ISSUED + timedelta(days=14),
        currency="DKK",
        lines=lines,
    )


def a_payment(invoice_external_id: str, record_id: str = "pay_1") -> AccountingPayment:
    return AccountingPayment(
        record_id=record_id,
        invoice_external_id=invoice_external_id,
        amount=Money(50000, "DKK"),
        paid_at=ISSUED,
        reference="fake_pi_1",
    )


def a_credit_note(invoice_external_id: str, record_id: str = "cn_1") -> AccountingCreditNote:
    return AccountingCreditNote(
        record_id=record_id,
        number="2",
        contact_id="stu_1",
        invoice_external_id=invoice_external_id,
        issued_at=ISSUED,
        currency="DKK",
        lines=(LINE,),
    )


def pushed_invoice(accounting: AccountingBackend) -> str:
    accounting.client.upsert_contacts([a_contact(1)], "key_contacts")
    [result] = accounting.client.push_invoices([an_invoice()], "key_invoices")
    assert result.external_id is not None
    return result.external_id


def test_results_come_back_one_per_record_in_order(accounting: AccountingBackend) -> None:
    contacts = [a_contact(n) for n in (3, 1, 2)]
    results = accounting.client.upsert_contacts(contacts, "key_1")
    assert [r.record_id for r in results] == ["stu_3", "stu_1", "stu_2"]
    assert all(r.ok for r in results)
    assert len({r.external_id for r in results}) == 3


def test_an_invoice_without_lines_is_refused_without_failing_the_others(
    accounting: AccountingBackend,
) -> None:
    accounting.client.upsert_contacts([a_contact(1)], "key_contacts")
    batch = [an_invoice("inv_1", "1"), an_invoice("inv_2", "2", lines=()), an_invoice("inv_3", "3")]
    results = accounting.client.push_invoices(batch, "key_invoices")
    assert [(r.record_id, r.ok) for r in results] == [
        ("inv_1", True),
        ("inv_2", False),
        ("inv_3", True),
    ]
    assert results[1].error
    assert accounting.records("invoices") == 2


def test_a_payment_for_an_unknown_invoice_is_refused_alone(
    accounting: AccountingBackend,
) -> None:
    invoice_id = pushed_invoice(accounting)
    batch = [a_payment("no_such_invoice", "pay_1"), a_payment(invoice_id, "pay_2")]
    results = accounting.client.push_payments(batch, "key_payments")
    assert [r.ok for r in results] == [False, True]
    assert results[0].error
    assert results[0].external_id is None


def test_a_credit_note_for_an_unknown_invoice_is_refused(accounting: AccountingBackend) -> None:
    invoice_id = pushed_invoice(accounting)
    batch = [a_credit_note(invoice_id, "cn_1"), a_credit_note("no_such_invoice", "cn_2")]
    results = accounting.client.push_credit_notes(batch, "key_notes")
    assert [r.ok for r in results] == [True, False]


def test_replaying_a_batch_with_the_same_key_creates_nothing_twice(
    accounting: AccountingBackend,
) -> None:
    batch = [a_contact(1), a_contact(2)]
    first = accounting.client.upsert_contacts(batch, "key_replay")
    again = accounting.client.upsert_contacts(batch, "key_replay")
    assert first == again
    assert accounting.records("contacts") == 2


def test_pushing_a_record_again_updates_it_under_the_same_external_id(
    accounting: AccountingBackend,
) -> None:
    [first] = accounting.client.upsert_contacts([a_contact(1)], "key_1")
    renamed = AccountingContact(record_id="stu_1", name="Sofie Hansen")
    [second] = accounting.client.upsert_contacts([renamed], "key_2")
    assert second.external_id == first.external_id
    assert accounting.records("contacts") == 1


def test_a_batch_larger_than_max_batch_is_refused_and_creates_nothing(
    accounting: AccountingBackend,
) -> None:
    too_many = [a_contact(n) for n in range(accounting.client.max_batch + 1)]
    with pytest.raises(ProviderRejected):
        accounting.client.upsert_contacts(too_many, "key_big")
    assert accounting.records("contacts") == 0


def test_a_batch_of_exactly_max_batch_is_accepted(accounting: AccountingBackend) -> None:
    full = [a_contact(n) for n in range(accounting.client.max_batch)]
    results = accounting.client.upsert_contacts(full, "key_full")
    assert len(results) == accounting.client.max_batch
    assert all(r.ok for r in results)


def test_an_empty_batch_returns_no_results(accounting: AccountingBackend) -> None:
    assert accounting.client.push_invoices([], "key_empty") == []

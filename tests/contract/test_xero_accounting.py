"""XeroAccountingClient against the Xero simulator: what only Xero has.

The wire format of each batch, per-element errors mapped to their records, payments and credit
note allocations, Idempotency-Key replays, batch size, and errors. Rate limits are in
test_xero_rate_limits.py, tokens in test_xero_tokens.py; the provider-neutral behaviour is in
test_accounting_contract.py (the `xero` entry of ACCOUNTING).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import unquote

import attrs
import httpx
import pytest
from attrs import evolve

from justdriving.adapters.accounting.xero.api import idempotency_key
from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    OAuthGrant,
)
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.domain.money import Money
from justdriving.testing.xero.grants import RecordingGrants
from justdriving.testing.xero.simulator import XeroSimulator

ISSUED = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
LESSON = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "200", "U25", True)


@pytest.fixture
def xero() -> Iterator[XeroSimulator]:
    with XeroSimulator() as simulator:
        yield simulator


@pytest.fixture
def adapter(xero: XeroSimulator) -> Iterator[XeroAccountingClient]:
    client = XeroAccountingClient(
        xero.client_id,
        xero.client_secret,
        xero.tenant_id,
        RecordingGrants(xero.grant()),
        api_base=xero.base_url,
        identity_base=xero.base_url,
        payment_account_code="090",
    )
    yield client
    client.close()


def student(n: int = 1) -> AccountingContact:
    return AccountingContact(f"stu_{n}", f"Student {n}", f"s{n}@example.dk")


def invoice(
    n: int = 1, *lines: AccountingLine, issued: datetime = ISSUED, currency: str = "DKK"
) -> AccountingInvoice:
    return AccountingInvoice(
        record_id=f"inv_{n}",
        number=f"2025-{n:04d}",
        contact_id="stu_1",
        issued_at=issued,
        due_at=issued + timedelta(days=14),
        currency=currency,
        lines=lines or (LESSON,),
    )


def payment(invoice_id: str, amount: int = 50000, n: int = 1) -> AccountingPayment:
    return AccountingPayment(f"pay_{n}", invoice_id, Money(amount, "DKK"), ISSUED, f"pi_{n}")


def credit_note(invoice_id: str, n: int = 1, amount: int = 50000) -> AccountingCreditNote:
    line = AccountingLine("Refund: lesson", 1, Money(amount, "DKK"), "200", "U25", True)
    return AccountingCreditNote(f"cn_{n}", f"CN-{n}", "stu_1", invoice_id, ISSUED, "DKK", (line,))


def pushed(adapter: XeroAccountingClient, *invoices: AccountingInvoice) -> list[str]:
    adapter.upsert_contacts([student(1)], "key_contacts")
    results = adapter.push_invoices(list(invoices or [invoice()]), "key_invoices")
    return [str(r.external_id) for r in results]


# The wire format.


def test_an_invoice_goes_out_as_an_authorised_accrec_invoice(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    exclusive = AccountingLine("Materials", 2, Money(12550, "DKK"), "260", "U25", False)
    pushed(adapter, invoice(1, exclusive))
    [call] = xero.requests_to("/Invoices", "POST")
    assert call.params() == {"summarizeErrors": "false"}
    assert call.idempotency_key == "key_invoices"
    assert call.headers["xero-tenant-id"] == xero.tenant_id
    assert call.headers["content-type"] == "application/json"
    assert b'"UnitAmount": 125.50' in call.body  # an exact decimal, never a float
    [sent] = call.json()["Invoices"]
    assert sent == {
        "Type": "ACCREC",
        "InvoiceNumber": "2025-0001",
        "Reference": "inv_1",
        "Contact": {"ContactNumber": "stu_1"},
        "Date": "2025-03-14",
        "DueDate": "2025-03-28",
        "CurrencyCode": "DKK",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Materials",
                "Quantity": 2,
                "UnitAmount": Decimal("125.50"),
                "AccountCode": "260",
                "TaxType": "U25",
            }
        ],
    }
    [stored] = xero.books.invoices.values()
    assert (stored.sub_total, stored.total_tax, stored.total) == (
        Decimal("251.00"),
        Decimal("62.75"),
        Decimal("313.75"),
    )


def test_dates_are_the_utc_date_of_the_moment(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    copenhagen = timezone(timedelta(hours=1))
    pushed(adapter, invoice(1, issued=datetime(2025, 3, 14, 0, 30, tzinfo=copenhagen)))
    [sent] = xero.requests_to("/Invoices", "POST")[0].json()["Invoices"]
    assert sent["Date"] == "2025-03-13"


def test_lines_mixing_vat_inclusive_and_exclusive_are_refused_unsent(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    exclusive = AccountingLine("Materials", 1, Money(10000, "DKK"), "200", "U25", False)
    adapter.upsert_contacts([student(1)], "key_contacts")
    results = adapter.push_invoices([invoice(1, LESSON, exclusive), invoice(2)], "key_invoices")
    assert [r.ok for r in results] == [False, True]
    assert "LineAmountTypes" in str(results[0].error)
    assert len(xero.requests_to("/Invoices", "POST")[0].json()["Invoices"]) == 1


def test_a_contact_is_matched_by_contact_number_on_the_next_push(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [first] = adapter.upsert_contacts([student(1)], "key_1")
    [again] = adapter.upsert_contacts([AccountingContact("stu_1", "Sofie Hansen")], "key_2")
    assert again.external_id == first.external_id
    [contact] = xero.books.contacts.values()
    assert (contact.number, contact.name, contact.email) == ("stu_1", "Sofie Hansen (stu_1)", None)


# Per-element errors.


def test_each_refusal_lands_on_its_own_record(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    unknown_account = AccountingLine("Lesson", 1, Money(50000, "DKK"), "9999", "U25", True)
    unknown_tax = AccountingLine("Lesson", 1, Money(50000, "DKK"), "200", "V99", True)
    adapter.upsert_contacts([student(1)], "key_contacts")
    batch = [invoice(1), invoice(2, unknown_account), invoice(3), invoice(4, unknown_tax)]
    results = adapter.push_invoices(batch, "key_invoices")
    assert [r.record_id for r in results] == ["inv_1", "inv_2", "inv_3", "inv_4"]
    assert [r.ok for r in results] == [True, False, True, False]
    assert "Account code '9999'" in str(results[1].error)
    assert "TaxType code 'V99'" in str(results[3].error)
    assert results[1].external_id is None
    assert xero.count("invoices") == 2


def test_two_students_of_one_name_are_two_contacts_named_apart_by_our_id(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    twins = [AccountingContact("stu_1", "Mads Jensen"), AccountingContact("stu_2", "Mads Jensen")]
    results = adapter.upsert_contacts(twins, "key_1")
    assert [r.ok for r in results] == [True, True]
    held = {c.number: c.name for c in xero.books.contacts.values()}
    assert held == {"stu_1": "Mads Jensen (stu_1)", "stu_2": "Mads Jensen (stu_2)"}


def test_an_invoice_number_xero_holds_as_another_invoice_is_refused_not_overwritten(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    adapter.upsert_contacts([student(1)], "key_contacts")
    [theirs] = adapter.push_invoices([invoice(1)], "key_1")  # another school's series
    ours = evolve(invoice(1), record_id="inv_other_school")  # the same number, not ours

    [refused] = adapter.push_invoices([ours], "key_2")
    [again] = adapter.push_invoices([invoice(1)], "key_3")  # the same record: updated

    assert not refused.ok
    assert "invoice number 2025-0001 is taken in Xero by another" in str(refused.error)
    assert again.external_id == theirs.external_id
    [held] = xero.books.invoices.values()
    assert held.reference == "inv_1"
    assert len(xero.requests_to("/Invoices", "POST")) == 2  # the refused one was not sent


def test_a_contact_carries_its_phone_and_street_address(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    address = PostalAddress("Vestergade 1", "8000", "Aarhus C")
    contact = AccountingContact("stu_1", "Mads Jensen", None, "+4520123456", address)
    [result] = adapter.upsert_contacts([contact], "key_1")
    assert result.ok
    [sent] = xero.requests_to("/Contacts", "POST")[0].json()["Contacts"]
    assert sent["Phones"] == [{"PhoneType": "MOBILE", "PhoneNumber": "+4520123456"}]
    assert sent["Addresses"] == [
        {
            "AddressType": "STREET",
            "AddressLine1": "Vestergade 1",
            "PostalCode": "8000",
            "City": "Aarhus C",
            "Country": "DK",
        }
    ]


def test_a_contact_made_by_hand_under_the_students_name_does_not_block_ours(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    xero.books.save_contact({"Name": "Mads Jensen"})  # typed into Xero, no ContactNumber
    [result] = adapter.upsert_contacts([AccountingContact("stu_1", "Mads Jensen")], "key_1")
    assert result.ok
    assert xero.count("contacts") == 2


# Payments.


def test_a_payment_settles_the_invoice_in_the_configured_bank_account(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    [result] = adapter.push_payments([payment(invoice_id)], "key_payments")
    assert result.ok
    [sent] = xero.requests_to("/Payments", "PUT")[0].json()["Payments"]
    assert sent == {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": "090"},
        "Date": "2025-03-14",
        "Amount": Decimal("500.00"),
        "Reference": "pi_1",
    }
    assert xero.books.invoices[invoice_id].status == "PAID"


def test_payments_for_invoices_xero_lacks_are_refused_before_anything_is_written(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    absent = "6d1e9c3a-0000-4000-8000-000000000001"
    batch = [payment("inv_local", n=1), payment(absent, n=2), payment(invoice_id, n=3)]
    results = adapter.push_payments(batch, "key_payments")
    assert [r.ok for r in results] == [False, False, True]
    assert "no invoice inv_local" in str(results[0].error)
    [sent] = [call.json()["Payments"] for call in xero.requests_to("/Payments", "PUT")]
    assert len(sent) == 1
    by_id = [r.query for r in xero.requests_to("/Invoices", "GET") if r.query.startswith("IDs=")]
    assert len(by_id) == 1  # one look-up for the whole batch (numbers are looked up apart)
    assert set(unquote(by_id[0].removeprefix("IDs=")).split(",")) == {absent, invoice_id}


def test_a_payment_above_what_is_owed_carries_xeros_reason(
    adapter: XeroAccountingClient,
) -> None:
    [invoice_id] = pushed(adapter)
    [result] = adapter.push_payments([payment(invoice_id, amount=60000)], "key_payments")
    assert "exceeds the amount outstanding" in str(result.error)


def test_a_payment_in_another_currency_is_refused(adapter: XeroAccountingClient) -> None:
    [invoice_id] = pushed(adapter)
    euro = AccountingPayment("pay_1", invoice_id, Money(5000, "EUR"), ISSUED, "pi_1")
    [result] = adapter.push_payments([euro], "key_payments")
    assert "is in DKK, not EUR" in str(result.error)


def test_payments_need_a_bank_account_code(xero: XeroSimulator) -> None:
    adapter = XeroAccountingClient(
        xero.client_id,
        xero.client_secret,
        xero.tenant_id,
        RecordingGrants(xero.grant()),
        api_base=xero.base_url,
        identity_base=xero.base_url,
    )
    with pytest.raises(ConfigurationError, match="bank account"):
        adapter.push_payments([payment("x")], "key_payments")


# Credit notes.


def test_a_credit_note_is_created_and_allocated_to_its_invoice(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    [result] = adapter.push_credit_notes([credit_note(invoice_id, amount=20000)], "key_notes")
    assert result.ok
    [note] = xero.books.credit_notes.values()
    assert (note.document_id, note.kind, note.remaining_credit) == (
        result.external_id,
        "ACCRECCREDIT",
        Decimal(0),
    )
    assert xero.books.invoices[invoice_id].amount_due == Decimal("300.00")
    [allocation] = xero.requests_to(f"/CreditNotes/{note.document_id}/Allocations", "PUT")
    assert allocation.idempotency_key == "key_notes:allocation:cn_1"
    assert allocation.json()["Allocations"][0]["Amount"] == Decimal("200.00")


def test_a_credit_note_above_what_the_invoice_owes_is_kept_but_reported(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    adapter.push_payments([payment(invoice_id, amount=40000)], "key_payments")
    [result] = adapter.push_credit_notes([credit_note(invoice_id)], "key_notes")
    assert not result.ok
    assert result.external_id in xero.books.credit_notes
    assert "not settled" in str(result.error)
    assert "exceeds the amount due" in str(result.error)


def test_pushing_a_credit_note_again_does_not_allocate_it_twice(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    note = credit_note(invoice_id, amount=10000)
    [first] = adapter.push_credit_notes([note], "key_1")
    [again] = adapter.push_credit_notes([note], "key_2")
    assert again == first
    assert xero.count("credit_notes") == 1
    assert xero.count("allocations") == 1


# Idempotency.


def test_a_replayed_batch_is_answered_again_and_writes_nothing(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    first = adapter.push_payments([payment(invoice_id, amount=10000)], "key_payments")
    again = adapter.push_payments([payment(invoice_id, amount=10000)], "key_payments")
    assert again == first
    assert xero.count("payments") == 1
    assert xero.replays == 1


def test_a_lost_answer_is_retried_under_the_same_key_without_a_second_record(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    xero.fail_next(502, path="/Payments", processed=True)
    with pytest.raises(ProviderUnavailable) as lost:
        adapter.push_payments([payment(invoice_id)], "key_payments")
    assert lost.value.possibly_done
    [result] = adapter.push_payments([payment(invoice_id)], "key_payments")
    assert result.ok
    assert xero.count("payments") == 1
    keys = {c.idempotency_key for c in xero.requests_to("/Payments", "PUT")}
    assert keys == {"key_payments"}


def test_a_used_key_for_another_batch_is_refused(adapter: XeroAccountingClient) -> None:
    adapter.upsert_contacts([student(1)], "key_1")
    with pytest.raises(ProviderRejected) as refused:
        adapter.upsert_contacts([student(2)], "key_1")
    assert refused.value.provider_code == "IdempotencyKeyMismatch"


def test_a_long_key_is_hashed_to_xeros_limit() -> None:
    assert idempotency_key("k" * 128) == "k" * 128
    assert len(idempotency_key("k" * 129)) == 64
    assert idempotency_key("k" * 200, "allocation:cn_1") != idempotency_key("k" * 200)


# Batches and errors.


def test_a_batch_above_fifty_is_refused_before_any_call(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    with pytest.raises(ProviderRejected, match="at most 50"):
        adapter.upsert_contacts([student(n) for n in range(51)], "key_1")
    assert xero.requests == []
    results = adapter.upsert_contacts([student(n) for n in range(50)], "key_2")
    assert len(results) == 50
    assert xero.largest_batch == 50


def test_a_server_error_may_have_written_the_batch(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    xero.fail_next(503)
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.upsert_contacts([student(1)], "key_1")
    assert raised.value.possibly_done


def fresh_grant(tenant_id: str) -> OAuthGrant:
    return OAuthGrant(
        id=OAuthGrant.key("xero", tenant_id),
        provider="xero",
        tenant_id=tenant_id,
        access_token="access",
        refresh_token="refresh",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def test_an_unreachable_xero_did_nothing() -> None:
    grants = RecordingGrants(fresh_grant("tenant"))
    adapter = XeroAccountingClient("id", "secret", "tenant", grants, api_base="http://127.0.0.1:9")
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.upsert_contacts([student(1)], "key_1")
    assert not raised.value.possibly_done


def test_a_whole_request_refusal_is_provider_rejected() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": "bad"}
        return httpx.Response(400, content=json.dumps(body).encode())

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    adapter = XeroAccountingClient(
        "id", "secret", "t", RecordingGrants(fresh_grant("t")), http=http
    )
    with pytest.raises(ProviderRejected) as refused:
        adapter.upsert_contacts([student(1)], "key_1")
    assert refused.value.provider_code == "PostDataInvalidException"


def test_a_400_that_lists_every_element_is_read_per_record() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        elements = [
            {"ContactID": "0c0ffee0-0000-4000-8000-000000000001", "ValidationErrors": []},
            {"ValidationErrors": [{"Message": "The contact name must be provided."}]},
        ]
        body = {"ErrorNumber": 10, "Type": "ValidationException", "Elements": elements}
        return httpx.Response(400, content=json.dumps(body).encode())

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    adapter = XeroAccountingClient(
        "id", "secret", "t", RecordingGrants(fresh_grant("t")), http=http
    )
    ok, refused = adapter.upsert_contacts([student(1), student(2)], "key_1")
    assert ok.external_id == "0c0ffee0-0000-4000-8000-000000000001"
    assert refused.error == "The contact name must be provided."


def test_a_refund_on_a_paid_invoice_is_booked_as_the_credit_notes_refund(
    adapter: XeroAccountingClient, xero: XeroSimulator
) -> None:
    [invoice_id] = pushed(adapter)
    adapter.push_payments([payment(invoice_id, amount=40000)], "key_payments")
    note = attrs.evolve(credit_note(invoice_id, amount=10000), refunded=Money(10000, "DKK"))

    [result] = adapter.push_credit_notes([note], "key_refund")
    [again] = adapter.push_credit_notes([note], "key_refund")

    assert result.ok
    assert again == result
    [refund] = [p for p in xero.books.payments.values() if p.invoice.kind != "ACCREC"]
    assert refund.amount == Decimal("100.00")
    assert xero.books.credit_notes[str(result.external_id)].remaining_credit == 0
    assert xero.count("allocations") == 0
    # One payment, unwrapped: the spec's createPayment is POST (PUT takes a list of them).
    booked = [call.json() for call in xero.requests_to("/Payments", "POST")]
    assert booked
    assert all(b["CreditNote"] == {"CreditNoteID": str(result.external_id)} for b in booked)

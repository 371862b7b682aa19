"""QuickBooksAccountingClient against the QuickBooks simulator: what only QuickBooks has.

Rotating refresh tokens, requestid replays, 429 pacing, error mapping, per-item Faults, and how
payments and credit memos land on invoices. The provider-neutral behaviour is in
test_accounting_contract.py (the `quickbooks` entry of ACCOUNTING).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
from justdriving.adapters.accounting.quickbooks.payloads import request_id
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    OAuthGrant,
)
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from justdriving.domain.money import Money
from justdriving.testing.quickbooks.simulator import QuickBooksSimulator

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
LESSON = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "1000", "U25", True)


class Grants:
    """A GrantStore that remembers what was saved, and can be told to fail."""

    def __init__(self) -> None:
        self.grants: dict[tuple[str, str], OAuthGrant] = {}
        self.saved: list[OAuthGrant] = []
        self.on_save: Callable[[OAuthGrant], None] = lambda grant: None

    def load(self, provider: str, tenant_id: str) -> OAuthGrant | None:
        return self.grants.get((provider, tenant_id))

    def save(self, grant: OAuthGrant) -> None:
        self.on_save(grant)
        self.grants[(grant.provider, grant.tenant_id)] = grant
        self.saved.append(grant)


class Ticker:
    """A monotonic clock that sleeping moves."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.seconds += seconds


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def quickbooks(ticker: Ticker) -> Iterator[QuickBooksSimulator]:
    with QuickBooksSimulator(clock=lambda: NOW, monotonic=ticker) as simulator:
        yield simulator


@pytest.fixture
def grants(quickbooks: QuickBooksSimulator) -> Grants:
    store = Grants()
    store.grants[("quickbooks", quickbooks.realm_id)] = quickbooks.connect()
    return store


def make_client(
    quickbooks: QuickBooksSimulator, grants: Grants, ticker: Ticker, **options: Any
) -> QuickBooksAccountingClient:
    return QuickBooksAccountingClient(
        quickbooks.client_id,
        quickbooks.client_secret,
        quickbooks.realm_id,
        grants,
        api_base=quickbooks.api_base,
        token_url=quickbooks.token_url,
        clock=lambda: NOW,
        monotonic=ticker,
        sleep=ticker.sleep,
        timezone="Europe/Copenhagen",
        **options,
    )


@pytest.fixture
def client(
    quickbooks: QuickBooksSimulator, grants: Grants, ticker: Ticker
) -> Iterator[QuickBooksAccountingClient]:
    made = make_client(quickbooks, grants, ticker)
    yield made
    made.close()


def expire(grants: Grants, quickbooks: QuickBooksSimulator) -> None:
    grant = grants.grants[("quickbooks", quickbooks.realm_id)]
    grant.expires_at = NOW - timedelta(seconds=1)


def contact(n: int = 1, name: str = "Sofie Hansen") -> AccountingContact:
    return AccountingContact(f"stu_{n}", name, f"s{n}@example.dk")


def invoice(
    n: int = 1, lines: tuple[AccountingLine, ...] = (LESSON,), contact_id: str = "stu_1"
) -> AccountingInvoice:
    issued = NOW.replace(hour=23)  # 00:30 the next day in Copenhagen
    return AccountingInvoice(
        f"inv_{n}", str(n), contact_id, issued, issued + timedelta(days=14), "DKK", lines
    )


def payment(invoice_id: str, amount: int, n: int = 1) -> AccountingPayment:
    return AccountingPayment(f"pay_{n}", invoice_id, Money(amount, "DKK"), NOW, f"pi_{n}")


def credit_note(invoice_id: str, n: int = 1, amount: int = 50000) -> AccountingCreditNote:
    line = AccountingLine("Refund", 1, Money(amount, "DKK"), "1000", "U25", True)
    return AccountingCreditNote(f"cn_{n}", f"K{n}", "stu_1", invoice_id, NOW, "DKK", (line,))


def booked_invoice(client: QuickBooksAccountingClient) -> str:
    [contacted] = client.upsert_contacts([contact()], "contacts")
    assert contacted.ok
    [result] = client.push_invoices([invoice()], "invoices")
    assert result.external_id is not None
    return result.external_id


def entity(quickbooks: QuickBooksSimulator, kind: str, id_: str) -> dict[str, Any]:
    return next(e for e in quickbooks.entities(kind) if e["Id"] == id_)


# Tokens ------------------------------------------------------------------------------------


def test_a_rotated_refresh_token_is_saved_before_its_access_token_is_used(
    client: QuickBooksAccountingClient, grants: Grants, quickbooks: QuickBooksSimulator
) -> None:
    expire(grants, quickbooks)
    old_refresh = grants.grants[("quickbooks", quickbooks.realm_id)].refresh_token
    batches_at_save: list[int] = []
    grants.on_save = lambda grant: batches_at_save.append(len(quickbooks.batches()))

    client.upsert_contacts([contact()], "key_1")

    [saved] = grants.saved
    assert batches_at_save == [0]
    assert saved.refresh_token != old_refresh
    assert saved.expires_at == NOW + timedelta(seconds=quickbooks.token_ttl)
    used = {b.headers["authorization"] for b in quickbooks.batches()}
    assert used == {f"Bearer {saved.access_token}"}
    assert quickbooks.refreshes == 1


def test_a_save_that_fails_stops_the_call_before_anything_is_sent(
    client: QuickBooksAccountingClient, grants: Grants, quickbooks: QuickBooksSimulator
) -> None:
    expire(grants, quickbooks)

    def fail(grant: OAuthGrant) -> None:
        raise RuntimeError("database down")

    grants.on_save = fail
    with pytest.raises(RuntimeError):
        client.upsert_contacts([contact()], "key_1")
    assert quickbooks.batches() == []


def test_a_second_worker_uses_the_refresh_token_the_first_one_rotated(
    quickbooks: QuickBooksSimulator, grants: Grants, ticker: Ticker
) -> None:
    first, second = make_client(quickbooks, grants, ticker), make_client(quickbooks, grants, ticker)
    expire(grants, quickbooks)
    first.upsert_contacts([contact(1)], "key_1")
    quickbooks.expire_tokens()  # the second worker's next call must refresh again
    [result] = second.upsert_contacts([contact(2)], "key_2")
    assert result.ok
    assert quickbooks.refreshes == 2
    assert len(grants.saved) == 2


def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    quickbooks.expire_tokens()
    [result] = client.upsert_contacts([contact()], "key_1")
    assert result.ok
    assert quickbooks.refreshes == 1
    assert quickbooks.count("contacts") == 1


def test_a_company_that_was_never_connected_is_a_configuration_error(
    quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    client = make_client(quickbooks, Grants(), ticker)
    with pytest.raises(ConfigurationError, match="not connected"):
        client.upsert_contacts([contact()], "key_1")


def test_a_revoked_refresh_token_is_a_configuration_error(
    client: QuickBooksAccountingClient, grants: Grants, quickbooks: QuickBooksSimulator
) -> None:
    expire(grants, quickbooks)
    grants.grants[("quickbooks", quickbooks.realm_id)].refresh_token = "revoked"
    with pytest.raises(ConfigurationError, match="invalid_grant"):
        client.upsert_contacts([contact()], "key_1")


@pytest.mark.parametrize("failures", [[401, 401], [403]])
def test_refused_authorization_is_a_configuration_error(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, failures: list[int]
) -> None:
    [result] = client.upsert_contacts([contact()], "key_1")  # the lookups are all that fail
    assert result.ok
    for status in failures:
        quickbooks.fail_next(status)
    with pytest.raises(ConfigurationError):
        client.upsert_contacts([contact(2)], "key_2")


def test_settings_quickbooks_cannot_serve_are_refused(grants: Grants) -> None:
    with pytest.raises(ConfigurationError):
        QuickBooksAccountingClient("id", "secret", "realm", grants, minorversion=74)
    with pytest.raises(ConfigurationError):
        QuickBooksAccountingClient("id", "secret", "realm", grants, batch_size=31)
    with pytest.raises(ConfigurationError):
        QuickBooksAccountingClient("", "secret", "realm", grants)


# Requests, replays and failures ----------------------------------------------------------


def test_writes_carry_the_minorversion_and_a_requestid_made_from_the_key(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    client.upsert_contacts([contact()], "key_1")
    lookup, write = quickbooks.batches()
    assert lookup.param("minorversion") == write.param("minorversion") == "75"
    assert lookup.request_id is None
    assert write.request_id == request_id("contacts", "key_1") == "contacts-key_1"


def test_a_long_key_becomes_a_requestid_quickbooks_accepts() -> None:
    value = request_id("credit_notes-apply", "k" * 200)
    assert len(value) == 50
    assert value == request_id("credit_notes-apply", "k" * 200)
    assert value != request_id("invoices", "k" * 200)


def test_the_same_key_is_replayed_by_quickbooks_and_books_nothing_twice(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    first = client.upsert_contacts([contact(1), contact(2)], "key_1")
    again = client.upsert_contacts([contact(1), contact(2)], "key_1")
    assert first == again
    assert quickbooks.replays == 1
    assert quickbooks.company.created["Customer"] == 2
    assert quickbooks.company.updated["Customer"] == 0


def test_a_failed_lookup_did_nothing(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    quickbooks.fail_next(503)
    with pytest.raises(ProviderUnavailable) as failed:
        client.upsert_contacts([contact()], "key_1")
    assert failed.value.possibly_done is False
    assert quickbooks.count("contacts") == 0


def test_a_write_answered_5xx_is_possibly_done_and_the_retry_is_replayed(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    client.upsert_contacts([contact(9)], "key_9")
    answer_lookup_then(quickbooks, lambda: quickbooks.fail_next(503, processed=True))
    with pytest.raises(ProviderUnavailable) as failed:
        client.upsert_contacts([contact(1)], "key_1")
    assert failed.value.possibly_done is True
    [result] = client.upsert_contacts([contact(1)], "key_1")
    assert result.ok
    assert quickbooks.company.created["Customer"] == 2
    assert quickbooks.replays == 1


def test_a_write_whose_answer_is_lost_is_replayed_on_retry(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    flaky = FailingWrites(quickbooks)
    store = Grants()
    store.save(quickbooks.connect())
    made = make_client(quickbooks, store, ticker, http=flaky.client)
    flaky.lose_next_write = True
    with pytest.raises(ProviderUnavailable) as failed:
        made.upsert_contacts([contact()], "key_1")
    assert failed.value.possibly_done is True
    assert quickbooks.count("contacts") == 1  # QuickBooks did it

    [result] = made.upsert_contacts([contact()], "key_1")
    assert result.ok
    assert quickbooks.company.created["Customer"] == 1
    assert quickbooks.replays == 1


class FailingWrites:
    """An httpx client onto the simulator that can lose the answer to the next write."""

    def __init__(self, quickbooks: QuickBooksSimulator) -> None:
        self.lose_next_write = False
        self.connect_fails = False
        inner = httpx.HTTPTransport()

        def handle(request: httpx.Request) -> httpx.Response:
            if self.connect_fails:
                raise httpx.ConnectError("refused", request=request)
            response = inner.handle_request(request)
            if self.lose_next_write and "requestid" in request.url.params:
                self.lose_next_write = False
                response.read()
                raise httpx.ReadTimeout("timed out", request=request)
            return response

        self.client = httpx.Client(transport=httpx.MockTransport(handle))


def test_a_connection_refused_did_nothing(quickbooks: QuickBooksSimulator, ticker: Ticker) -> None:
    flaky = FailingWrites(quickbooks)
    store = Grants()
    store.save(quickbooks.connect())
    made = make_client(quickbooks, store, ticker, http=flaky.client)
    flaky.connect_fails = True
    with pytest.raises(ProviderUnavailable) as failed:
        made.upsert_contacts([contact()], "key_1")
    assert failed.value.possibly_done is False


def test_a_429_waits_retry_after_and_sends_the_same_requestid_again(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    client.upsert_contacts([contact(1)], "key_0")
    quickbooks.throttle_next(retry_after=7)
    quickbooks.throttle_next(retry_after=7)
    [result] = client.push_invoices([invoice()], "key_1")
    assert result.ok
    assert 7 in ticker.slept
    writes = [b for b in quickbooks.batches() if b.request_id == request_id("invoices", "key_1")]
    assert len(writes) == 1  # both 429s hit the lookups, which carry no requestid
    assert quickbooks.throttled == 2


def test_a_throttled_write_is_retried_with_its_requestid(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    client.upsert_contacts([contact(1)], "key_0")
    answer_lookup_then(quickbooks, lambda: quickbooks.throttle_next(retry_after=3))
    [result] = client.upsert_contacts([contact(1, "Sofie H")], "key_1")
    assert result.ok
    ids = [b.request_id for b in quickbooks.batches()[-3:]]
    assert ids == [None, "contacts-key_1", "contacts-key_1"]
    assert ticker.slept == [3]


def answer_lookup_then(quickbooks: QuickBooksSimulator, fail: Callable[[], None]) -> None:
    """Let the lookups through and make the next write (a call with a requestid) fail."""
    original = quickbooks.handle

    def handle(request: Any) -> Any:
        if request.request_id is not None:
            fail()
            quickbooks.handle = original  # type: ignore[method-assign]
        return original(request)

    quickbooks.handle = handle  # type: ignore[method-assign]


def test_throttling_that_does_not_end_is_handed_back_with_retry_after(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    for _ in range(4):
        quickbooks.throttle_next(retry_after=2)
    with pytest.raises(ProviderUnavailable) as failed:
        client.upsert_contacts([contact()], "key_1")
    assert failed.value.retry_after == 2
    assert failed.value.possibly_done is False


def test_a_retry_after_too_long_to_wait_is_handed_back_at_once(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    quickbooks.throttle_next(retry_after=600)
    with pytest.raises(ProviderUnavailable) as failed:
        client.upsert_contacts([contact()], "key_1")
    assert failed.value.retry_after == 600
    assert ticker.slept == []


def test_the_client_paces_itself_under_the_batch_limit(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator, ticker: Ticker
) -> None:
    for n in range(25):  # 50 batch calls: a lookup and a write each
        client.upsert_contacts([contact(n)], f"key_{n}")
    assert quickbooks.throttled == 0
    assert sum(ticker.slept) >= 60  # the 41st batch waited for the first minute to pass


# Per-item faults and mapping ---------------------------------------------------------------


def test_an_unknown_tax_code_is_refused_for_that_invoice_alone(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    client.upsert_contacts([contact()], "contacts")
    odd = AccountingLine("Lesson", 1, Money(50000, "DKK"), "1000", "X99", True)
    results = client.push_invoices([invoice(1), invoice(2, (odd,)), invoice(3)], "invoices")
    assert [r.ok for r in results] == [True, False, True]
    assert "tax code X99" in (results[1].error or "")
    assert "(6000)" in (results[1].error or "")
    assert quickbooks.count("invoices") == 2


def test_an_invoice_lands_with_our_number_dates_lines_and_tax_codes(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    client.upsert_contacts([contact()], "contacts")
    exclusive = AccountingLine("Theory", 2, Money(10050, "DKK"), "1020", "U25", False)
    [result] = client.push_invoices([invoice(7, (exclusive,))], "invoices")
    assert result.external_id is not None
    booked = entity(quickbooks, "Invoice", result.external_id)
    assert booked["DocNumber"] == "7"
    assert booked["PrivateNote"] == "justdriving:inv_7"
    assert (booked["TxnDate"], booked["DueDate"]) == ("2025-03-15", "2025-03-29")
    assert booked["GlobalTaxCalculation"] == "TaxExcluded"
    [line] = booked["Line"]
    assert line["Amount"] == Decimal("201.00")
    assert line["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "U25"}
    assert line["SalesItemLineDetail"]["ItemRef"] == {"value": "1020"}
    assert booked["TotalAmt"] == Decimal("251.25")


def test_an_invoice_for_a_contact_never_pushed_is_refused_without_a_write(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    [result] = client.push_invoices([invoice(contact_id="stu_404")], "invoices")
    assert "no QuickBooks customer for contact stu_404" in (result.error or "")
    assert all(b.request_id is None for b in quickbooks.batches())


def test_an_invoice_mixing_inclusive_and_exclusive_lines_is_refused(
    client: QuickBooksAccountingClient,
) -> None:
    client.upsert_contacts([contact()], "contacts")
    exclusive = AccountingLine("Theory", 1, Money(10000, "DKK"), "1020", "U25", False)
    [result] = client.push_invoices([invoice(1, (LESSON, exclusive))], "invoices")
    assert "all exclusive" in (result.error or "")


def test_an_invoice_number_used_by_someone_else_is_refused(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    booked_invoice(client)
    other = invoice(1)
    results = client.push_invoices(
        [AccountingInvoice("inv_other", "1", "stu_1", NOW, NOW, "DKK", other.lines)], "again"
    )
    assert "already used" in (results[0].error or "")
    assert quickbooks.count("invoices") == 1


def test_pushing_an_invoice_again_updates_it_in_place(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    first = booked_invoice(client)
    two = AccountingLine("Driving lesson", 2, Money(50000, "DKK"), "1000", "U25", True)
    [again] = client.push_invoices([invoice(1, (two,))], "invoices_2")
    assert again.external_id == first
    assert entity(quickbooks, "Invoice", first)["TotalAmt"] == Decimal("1000.00")
    assert quickbooks.company.updated["Invoice"] == 1


def test_a_renamed_contact_keeps_its_customer_and_a_name_quickbooks_accepts(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    [first] = client.upsert_contacts([contact(1, "Sofie Hansen")], "key_1")
    [second] = client.upsert_contacts([contact(1, "Sofie: Hansen-Berg")], "key_2")
    assert first.external_id == second.external_id
    [customer] = quickbooks.entities("Customer")
    assert customer["DisplayName"] == "Sofie Hansen-Berg (stu_1)"


def test_two_students_with_the_same_name_are_two_customers(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    results = client.upsert_contacts([contact(1, "Anna"), contact(2, "Anna")], "key_1")
    assert all(r.ok for r in results)
    assert quickbooks.count("contacts") == 2


def test_lookups_and_writes_stay_within_thirty_items_per_batch(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    client.upsert_contacts([contact(n) for n in range(30)], "contacts")
    invoices = [invoice(n, contact_id=f"stu_{n}") for n in range(30)]
    results = client.push_invoices(invoices, "invoices")
    assert all(r.ok for r in results)
    sizes = [len(json.loads(b.body)["BatchItemRequest"]) for b in quickbooks.batches()]
    assert max(sizes) == 30
    assert len(quickbooks.batches()) == 2 + 3  # contacts: 1 + 1; invoices: 60 queries + 1


def test_more_than_max_batch_is_refused_before_any_call(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    with pytest.raises(ProviderRejected):
        client.upsert_contacts([contact(n) for n in range(31)], "key")
    assert quickbooks.requests == []


# Payments and credit memos -----------------------------------------------------------------


def test_a_payment_applies_to_its_invoice_and_an_overpayment_stays_as_credit(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    results = client.push_payments(
        [payment(invoice_id, 30000, 1), payment(invoice_id, 30000, 2)], "payments"
    )
    assert all(r.ok for r in results)
    second = entity(quickbooks, "Payment", results[1].external_id or "")
    assert second["UnappliedAmt"] == Decimal("100.00")
    assert second["CustomerRef"] == entity(quickbooks, "Invoice", invoice_id)["CustomerRef"]
    assert entity(quickbooks, "Invoice", invoice_id)["Balance"] == Decimal("0.00")


def test_a_payment_pushed_again_is_updated_not_booked_twice(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    [first] = client.push_payments([payment(invoice_id, 20000)], "payments_1")
    [again] = client.push_payments([payment(invoice_id, 50000)], "payments_2")
    assert again.external_id == first.external_id
    assert quickbooks.count("payments") == 1
    assert entity(quickbooks, "Invoice", invoice_id)["Balance"] == Decimal("0.00")


def test_a_credit_note_is_booked_and_applied_to_its_invoice(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    [result] = client.push_credit_notes([credit_note(invoice_id, amount=20000)], "notes")
    assert result.external_id is not None
    memo = entity(quickbooks, "CreditMemo", result.external_id)
    assert (memo["DocNumber"], memo["Balance"]) == ("K1", Decimal("0.00"))
    assert entity(quickbooks, "Invoice", invoice_id)["Balance"] == Decimal("300.00")
    assert quickbooks.count("payments") == 0  # the zero Payment that applies it is no payment


def test_credit_notes_in_one_batch_share_what_is_open_on_the_invoice(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    notes = [
        credit_note(invoice_id, n, amount) for n, amount in ((1, 30000), (2, 20000), (3, 10000))
    ]
    results = client.push_credit_notes(notes, "notes")
    assert all(r.ok for r in results)
    left = {m["DocNumber"]: m["Balance"] for m in quickbooks.entities("CreditMemo")}
    assert left == {"K1": Decimal("0.00"), "K2": Decimal("0.00"), "K3": Decimal("100.00")}


def test_a_refund_after_payment_leaves_the_credit_on_the_customer(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    client.push_payments([payment(invoice_id, 50000)], "payments")
    [result] = client.push_credit_notes([credit_note(invoice_id)], "notes")
    assert result.ok
    assert entity(quickbooks, "CreditMemo", result.external_id or "")["Balance"] == Decimal(
        "500.00"
    )


def test_a_credit_note_pushed_again_is_not_applied_twice(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    [first] = client.push_credit_notes([credit_note(invoice_id, amount=20000)], "notes_1")
    [again] = client.push_credit_notes([credit_note(invoice_id, amount=20000)], "notes_2")
    assert again.external_id == first.external_id
    assert entity(quickbooks, "Invoice", invoice_id)["Balance"] == Decimal("300.00")


def test_an_application_quickbooks_refuses_is_reported_and_retried_next_time(
    client: QuickBooksAccountingClient, quickbooks: QuickBooksSimulator
) -> None:
    invoice_id = booked_invoice(client)
    original = quickbooks.company.answer

    def paid_meanwhile(item: dict[str, Any]) -> dict[str, Any]:
        if "Payment" in item:  # someone pays the invoice just before the credit is applied
            quickbooks.company.answer = original  # type: ignore[method-assign]
            quickbooks.company.write(
                "Payment",
                "create",
                {
                    "CustomerRef": entity(quickbooks, "Invoice", invoice_id)["CustomerRef"],
                    "TotalAmt": 500,
                    "Line": [
                        {"Amount": 500, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
                    ],
                },
            )
        return original(item)

    quickbooks.company.answer = paid_meanwhile  # type: ignore[method-assign]
    [failed] = client.push_credit_notes([credit_note(invoice_id, amount=20000)], "notes_1")
    assert "booked but not applied" in (failed.error or "")
    assert "above the open balance" in (failed.error or "")
    [again] = client.push_credit_notes([credit_note(invoice_id, amount=20000)], "notes_2")
    assert again.ok  # nothing left open to apply it to: the credit stays with the customer
    assert quickbooks.count("credit_notes") == 1

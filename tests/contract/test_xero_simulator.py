"""The Xero simulator on the wire (plain httpx, no adapter): tokens, validation per element,
Idempotency-Key replays and the rate limits, so that the adapter's tests stand on something
that behaves as Xero does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.simulator import XeroSimulator

START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
API = "/api.xro/2.0"


@pytest.fixture
def time() -> SimulatedTime:
    return SimulatedTime(START)


@pytest.fixture
def xero(time: SimulatedTime) -> Iterator[XeroSimulator]:
    with XeroSimulator(clock=time.now) as simulator:
        yield simulator


class Wire:
    """Raw calls to the simulator as one connected app."""

    def __init__(self, xero: XeroSimulator) -> None:
        self.xero, self.token = xero, xero.connect().access_token
        self.http = httpx.Client(base_url=xero.base_url)

    def send(
        self, method: str, path: str, body: Any = None, *, key: str | None = None, **params: str
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", "xero-tenant-id": self.xero.tenant_id}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.request(
            method, API + path, json=body, headers=headers, params=params or None
        )

    def write(
        self, path: str, body: Any, *, key: str | None = None, method: str = "POST"
    ) -> httpx.Response:
        return self.send(method, path, body, key=key, summarizeErrors="false")


@pytest.fixture
def wire(xero: XeroSimulator) -> Wire:
    return Wire(xero)


def contact(n: int) -> dict[str, Any]:
    return {"ContactNumber": f"stu_{n}", "Name": f"Student {n}"}


def invoice(number: str, account: str = "200", amount: float = 500.00) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "InvoiceNumber": number,
        "Contact": {"ContactNumber": "stu_1"},
        "Date": "2025-03-14",
        "DueDate": "2025-03-28",
        "CurrencyCode": "DKK",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Inclusive",
        "LineItems": [
            {"Description": "Lesson", "Quantity": 1, "UnitAmount": amount, "AccountCode": account,
             "TaxType": "U25"}
        ],
    }  # fmt: skip


def an_invoice(wire: Wire) -> str:
    wire.write("/Contacts", {"Contacts": [contact(1)]})
    answer = wire.write("/Invoices", {"Invoices": [invoice("1")]}).json()
    return str(answer["Invoices"][0]["InvoiceID"])


def refresh(xero: XeroSimulator, refresh_token: str, secret: str | None = None) -> httpx.Response:
    return httpx.post(
        xero.base_url + "/connect/token",
        auth=(xero.client_id, secret or xero.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )


# Tokens.


def test_a_refresh_rotates_the_refresh_token(xero: XeroSimulator) -> None:
    first = xero.connect()
    answer = refresh(xero, first.refresh_token)
    assert answer.status_code == 200
    body = answer.json()
    assert body["expires_in"] == 1800
    assert body["refresh_token"] != first.refresh_token
    again = refresh(xero, first.refresh_token)
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_the_token_endpoint_checks_the_client(xero: XeroSimulator) -> None:
    answer = refresh(xero, xero.connect().refresh_token, secret="wrong")
    assert answer.json() == {"error": "invalid_client"}


def test_an_access_token_expires_after_thirty_minutes(wire: Wire, time: SimulatedTime) -> None:
    assert wire.send("GET", "/Invoices").status_code == 200
    time.advance(1800)
    assert wire.send("GET", "/Invoices").status_code == 401


def test_another_tenant_is_forbidden(wire: Wire) -> None:
    answer = wire.http.get(
        API + "/Invoices",
        headers={"Authorization": f"Bearer {wire.token}", "xero-tenant-id": "someone-else"},
    )
    assert answer.status_code == 403


# Validation per element.


def test_elements_are_refused_on_their_own_with_summarize_errors_false(
    wire: Wire, xero: XeroSimulator
) -> None:
    wire.write("/Contacts", {"Contacts": [contact(1)]})
    answer = wire.write("/Invoices", {"Invoices": [invoice("1"), invoice("2", account="999")]})
    assert answer.status_code == 200
    ok, refused = answer.json()["Invoices"]
    assert (ok["StatusAttributeString"], ok["HasErrors"], ok["Total"]) == ("OK", False, 500)
    assert refused["StatusAttributeString"] == "ERROR"
    assert refused["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert refused["ValidationErrors"] == [
        {"Message": "Account code '999' is not a valid code for this document."}
    ]
    assert xero.count("invoices") == 1


def test_a_contact_name_another_contact_holds_is_refused_whatever_its_case_and_spaces(
    wire: Wire, xero: XeroSimulator
) -> None:
    wire.write("/Contacts", {"Contacts": [{"ContactNumber": "stu_1", "Name": "Mads Jensen"}]})
    twins = [
        {"ContactNumber": "stu_2", "Name": "mads jensen"},
        {"ContactNumber": "stu_3", "Name": " Mads Jensen "},
        {"ContactNumber": "stu_1", "Name": "MADS JENSEN"},  # its own name, in capitals
    ]
    answer = wire.write("/Contacts", {"Contacts": twins})
    second, third, renamed = answer.json()["Contacts"]
    assert "must be unique across all active contacts" in second["ValidationErrors"][0]["Message"]
    assert "must be unique across all active contacts" in third["ValidationErrors"][0]["Message"]
    assert (renamed["ValidationErrors"], renamed["Name"]) == ([], "MADS JENSEN")
    assert xero.count("contacts") == 1


def test_by_default_one_refusal_refuses_the_whole_request(wire: Wire, xero: XeroSimulator) -> None:
    wire.write("/Contacts", {"Contacts": [contact(1)]})
    answer = wire.send("POST", "/Invoices", {"Invoices": [invoice("1"), invoice("2", "999")]})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert len(body["Elements"]) == 2
    assert xero.count("invoices") == 0


def test_a_payment_for_an_unknown_invoice_is_refused(wire: Wire) -> None:
    answer = wire.write(
        "/Payments",
        {"Payments": [{"Invoice": {"InvoiceID": "6d1e9c3a-0000-4000-8000-000000000001"},
                       "Account": {"Code": "090"}, "Date": "2025-03-14", "Amount": 100}]},
        method="PUT",  # createPayments: a list of payments
    )  # fmt: skip
    [element] = answer.json()["Payments"]
    assert "could not be found" in element["ValidationErrors"][0]["Message"]


def test_a_payment_must_go_to_a_bank_account(wire: Wire) -> None:
    invoice_id = an_invoice(wire)
    answer = wire.write(
        "/Payments",
        {"Payments": [{"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "200"},
                       "Date": "2025-03-14", "Amount": 100}]},
        method="PUT",  # createPayments: a list of payments
    )  # fmt: skip
    [element] = answer.json()["Payments"]
    assert "BANK accounts" in element["ValidationErrors"][0]["Message"]


def test_a_credit_note_cannot_allocate_more_than_the_invoice_owes(
    wire: Wire, xero: XeroSimulator
) -> None:
    invoice_id = an_invoice(wire)
    note = {**invoice("CN-1", amount=600.00), "Type": "ACCRECCREDIT"}
    note["CreditNoteNumber"] = note.pop("InvoiceNumber")
    [created] = wire.write("/CreditNotes", {"CreditNotes": [note]}).json()["CreditNotes"]
    assert created["RemainingCredit"] == 600
    allocation = {"Invoice": {"InvoiceID": invoice_id}, "Amount": 600.00, "Date": "2025-03-14"}
    answer = wire.send(
        "PUT",
        f"/CreditNotes/{created['CreditNoteID']}/Allocations",
        {"Allocations": [allocation]},
        summarizeErrors="false",
    )
    [element] = answer.json()["Allocations"]
    assert "exceeds the amount due" in element["ValidationErrors"][0]["Message"]
    assert xero.books.invoices[invoice_id].amount_due == Decimal("500.00")


def test_an_unknown_credit_note_has_no_allocations(wire: Wire) -> None:
    path = "/CreditNotes/6d1e9c3a-0000-4000-8000-000000000001/Allocations"
    assert wire.send("PUT", path, {"Allocations": []}).status_code == 404


# Idempotency.


def test_the_same_key_and_body_replay_the_first_answer(wire: Wire, xero: XeroSimulator) -> None:
    first = wire.write("/Contacts", {"Contacts": [contact(1)]}, key="key_1")
    again = wire.write("/Contacts", {"Contacts": [contact(1)]}, key="key_1")
    assert again.content == first.content
    assert (xero.count("contacts"), xero.replays) == (1, 1)


def test_the_same_key_with_another_body_is_refused(wire: Wire, xero: XeroSimulator) -> None:
    wire.write("/Contacts", {"Contacts": [contact(1)]}, key="key_1")
    answer = wire.write("/Contacts", {"Contacts": [contact(2)]}, key="key_1")
    assert answer.status_code == 400
    assert xero.count("contacts") == 1


# Rate limits.


def test_the_sixty_first_call_in_a_minute_is_throttled_until_the_first_leaves(
    wire: Wire, xero: XeroSimulator, time: SimulatedTime
) -> None:
    for _ in range(60):
        assert wire.send("GET", "/Invoices").status_code == 200
        time.advance(0.5)
    throttled = wire.send("GET", "/Invoices")
    assert throttled.status_code == 429
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute"
    assert throttled.headers["Retry-After"] == "30"
    assert throttled.headers["X-MinLimit-Remaining"] == "0"
    time.advance(30)
    answer = wire.send("GET", "/Invoices")
    assert answer.status_code == 200
    assert answer.headers["X-DayLimit-Remaining"] == str(5000 - 61)
    assert (xero.quota.calls, xero.quota.busiest_minute) == (61, 60)
    assert xero.quota.throttled == {"minute": 1}
    assert xero.quota.calls_by_minute == {
        int(START.timestamp() // 60): 60,
        int(START.timestamp() // 60) + 1: 1,
    }


def test_the_day_limit_counts_a_rolling_day(time: SimulatedTime) -> None:
    with XeroSimulator(clock=time.now, per_day=3) as xero:
        wire = Wire(xero)
        for _ in range(3):
            wire.send("GET", "/Invoices")
            time.advance(500)
        throttled = wire.send("GET", "/Invoices")
        assert throttled.headers["X-Rate-Limit-Problem"] == "day"
        assert throttled.headers["Retry-After"] == str(24 * 3600 - 3 * 500)


def test_a_sixth_call_in_flight_is_throttled(time: SimulatedTime) -> None:
    with XeroSimulator(clock=time.now, latency=0.3) as xero:
        wire = Wire(xero)
        answers: list[int] = []
        lock = threading.Lock()

        def call() -> None:
            status = Wire(xero).send("GET", "/Invoices").status_code
            with lock:
                answers.append(status)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == [200] * 5 + [429]
        assert xero.quota.max_concurrency == 5
        assert xero.quota.throttled == {"concurrent": 1}
        assert wire.send("GET", "/Invoices").status_code == 200

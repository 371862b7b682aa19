"""The QuickBooks simulator on the wire: token rotation, per-item faults, requestid replay and
throttling, as a client other than ours would see them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from justdriving.testing.quickbooks.simulator import QuickBooksSimulator, SimulatorError

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


class Ticker:
    def __init__(self) -> None:
        self.seconds = 50.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def quickbooks(ticker: Ticker) -> Iterator[QuickBooksSimulator]:
    with QuickBooksSimulator(clock=lambda: NOW, monotonic=ticker) as simulator:
        yield simulator


class Wire:
    """Raw calls to the simulator with the token of a fresh connection."""

    def __init__(self, quickbooks: QuickBooksSimulator) -> None:
        self.quickbooks = quickbooks
        self.grant = quickbooks.connect()
        self.http = httpx.Client()

    def batch(self, *items: dict[str, Any], requestid: str | None = None) -> httpx.Response:
        params = {"minorversion": "75", **({"requestid": requestid} if requestid else {})}
        return self.http.post(
            self.quickbooks.api_base + self.quickbooks.batch_path,
            params=params,
            json={"BatchItemRequest": list(items)},
            headers={"Authorization": f"Bearer {self.grant.access_token}"},
        )

    def one(self, item: dict[str, Any], requestid: str | None = None) -> dict[str, Any]:
        response = self.batch({"bId": "1", **item}, requestid=requestid)
        assert response.status_code == 200, response.text
        [answer] = response.json()["BatchItemResponse"]
        assert answer["bId"] == "1"
        return dict(answer)

    def refresh(self, token: str, secret: str | None = None) -> httpx.Response:
        return self.http.post(
            self.quickbooks.token_url,
            auth=(self.quickbooks.client_id, secret or self.quickbooks.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": token},
        )


@pytest.fixture
def wire(quickbooks: QuickBooksSimulator) -> Iterator[Wire]:
    made = Wire(quickbooks)
    yield made
    made.http.close()


def create(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"operation": "create", kind: body}


def customer(wire: Wire, name: str = "Sofie (stu_1)") -> str:
    return str(wire.one(create("Customer", {"DisplayName": name}))["Customer"]["Id"])


def sales_line(amount: float = 500.00, tax: str = "U25", item: str = "1000") -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {
            "ItemRef": {"value": item},
            "Qty": 1,
            "UnitPrice": amount,
            "TaxCodeRef": {"value": tax},
        },
    }


def invoice(wire: Wire, customer_id: str, number: str = "1", **extra: Any) -> dict[str, Any]:
    body = {
        "DocNumber": number,
        "CustomerRef": {"value": customer_id},
        "GlobalTaxCalculation": "TaxInclusive",
        "Line": [sales_line()],
        **extra,
    }
    return wire.one(create("Invoice", body))


def link(amount: float, txn: str, kind: str = "Invoice") -> dict[str, Any]:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": txn, "TxnType": kind}]}


def fault_code(answer: dict[str, Any]) -> str:
    return str(answer["Fault"]["Error"][0]["code"])


# Tokens ------------------------------------------------------------------------------------


def test_a_refresh_rotates_the_refresh_token_and_spends_the_old_one(wire: Wire) -> None:
    first = wire.refresh(wire.grant.refresh_token)
    assert first.status_code == 200
    body = first.json()
    assert body["refresh_token"] != wire.grant.refresh_token
    assert body["expires_in"] == 3600
    again = wire.refresh(wire.grant.refresh_token)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert wire.refresh(body["refresh_token"]).status_code == 200
    assert wire.quickbooks.refreshes == 2


def test_wrong_client_credentials_are_refused(wire: Wire) -> None:
    answer = wire.refresh(wire.grant.refresh_token, secret="wrong")
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_an_unknown_or_expired_access_token_gets_401(wire: Wire) -> None:
    wire.quickbooks.expire_tokens()
    answer = wire.batch({"bId": "1", "Query": "select * from Customer"})
    assert answer.status_code == 401
    assert answer.json()["Fault"]["Error"][0]["code"] == "3200"


# Per-item faults ---------------------------------------------------------------------------


def test_each_item_is_answered_alone_and_a_fault_does_not_stop_the_others(wire: Wire) -> None:
    answer = wire.batch(
        {"bId": "a", **create("Customer", {"DisplayName": "Anna (stu_1)"})},
        {"bId": "b", **create("Customer", {"DisplayName": "Anna (stu_1)"})},
        {"bId": "c", **create("Customer", {"DisplayName": "Bo (stu_2)"})},
    )
    items = {item["bId"]: item for item in answer.json()["BatchItemResponse"]}
    assert "Customer" in items["a"]
    assert "Customer" in items["c"]
    assert fault_code(items["b"]) == "6240"
    assert wire.quickbooks.count("contacts") == 2


def test_an_unknown_tax_code_or_item_is_a_fault(wire: Wire) -> None:
    cid = customer(wire)
    taxed = invoice(wire, cid, Line=[sales_line(tax="X99")])
    assert fault_code(taxed) == "6000"
    assert "tax code X99" in taxed["Fault"]["Error"][0]["Detail"]
    assert fault_code(invoice(wire, cid, Line=[sales_line(item="9999")])) == "2500"
    assert wire.quickbooks.count("invoices") == 0


def test_an_invoice_is_totalled_with_vat_per_line(wire: Wire) -> None:
    cid = customer(wire)
    inclusive = invoice(wire, cid)["Invoice"]
    assert (inclusive["TotalAmt"], inclusive["TxnTaxDetail"]["TotalTax"]) == (500.0, 100.0)
    exclusive = invoice(wire, cid, "2", GlobalTaxCalculation="TaxExcluded")["Invoice"]
    assert (exclusive["TotalAmt"], exclusive["Balance"]) == (625.0, 625.0)


def test_amount_must_be_quantity_times_price_and_numbers_unique(wire: Wire) -> None:
    cid = customer(wire)
    line = sales_line()
    line["SalesItemLineDetail"]["Qty"] = 2
    assert fault_code(invoice(wire, cid, Line=[line])) == "6070"
    invoice(wire, cid, "7")
    assert fault_code(invoice(wire, cid, "7")) == "6140"
    assert fault_code(invoice(wire, cid, "8", Line=[])) == "2020"


def test_a_payment_for_an_unknown_invoice_is_a_fault(wire: Wire) -> None:
    cid = customer(wire)
    answer = wire.one(
        create(
            "Payment",
            {"CustomerRef": {"value": cid}, "TotalAmt": 100, "Line": [link(100, "999")]},
        )
    )
    assert fault_code(answer) == "610"
    assert wire.quickbooks.count("payments") == 0


def test_a_payment_above_the_open_balance_is_a_fault(wire: Wire) -> None:
    cid = customer(wire)
    iid = invoice(wire, cid)["Invoice"]["Id"]
    body = {"CustomerRef": {"value": cid}, "TotalAmt": 600, "Line": [link(600.00, iid)]}
    assert fault_code(wire.one(create("Payment", body))) == "6000"
    body["Line"] = [link(500.00, iid)]
    paid = wire.one(create("Payment", body))["Payment"]
    assert paid["UnappliedAmt"] == 100.0
    assert wire.quickbooks.entities("Invoice")[0]["Balance"] == Decimal("0.00")


def test_a_credit_above_what_remains_on_the_invoice_is_a_fault(wire: Wire) -> None:
    cid = customer(wire)
    iid = invoice(wire, cid)["Invoice"]["Id"]
    memo = wire.one(
        create(
            "CreditMemo",
            {
                "DocNumber": "K1",
                "CustomerRef": {"value": cid},
                "GlobalTaxCalculation": "TaxInclusive",
                "Line": [sales_line(600.00)],
            },
        )
    )["CreditMemo"]
    apply = {
        "CustomerRef": {"value": cid},
        "TotalAmt": 0,
        "Line": [link(600.00, iid), link(600.00, memo["Id"], "CreditMemo")],
    }
    refused = wire.one(create("Payment", apply))
    assert fault_code(refused) == "6000"
    assert "above the open balance" in refused["Fault"]["Error"][0]["Detail"]
    apply["Line"] = [link(500.00, iid), link(500.00, memo["Id"], "CreditMemo")]
    assert "Payment" in wire.one(create("Payment", apply))
    left = {e["DocNumber"]: e["Balance"] for e in wire.quickbooks.entities("CreditMemo")}
    assert left == {"K1": Decimal("100.00")}


def test_an_update_needs_the_current_sync_token(wire: Wire) -> None:
    cid = customer(wire)
    update = {"operation": "update", "Customer": {"Id": cid, "SyncToken": "0", "sparse": True}}
    renamed = wire.one({**update, "Customer": {**update["Customer"], "DisplayName": "Sofie H"}})
    assert renamed["Customer"]["SyncToken"] == "1"
    assert fault_code(wire.one(update)) == "5010"


def test_queries_find_by_field_and_by_suffix(wire: Wire) -> None:
    customer(wire, "Sofie (stu_1)")
    customer(wire, "Sofie (stu_11)")
    found = wire.one({"Query": "select * from Customer where DisplayName LIKE '%(stu_1)'"})
    assert [c["DisplayName"] for c in found["QueryResponse"]["Customer"]] == ["Sofie (stu_1)"]
    none = wire.one({"Query": "select * from Invoice where DocNumber = 'O\\'Brien'"})
    assert none["QueryResponse"] == {}
    assert fault_code(wire.one({"Query": "delete everything"})) == "4000"


# Replays, limits and failures ------------------------------------------------------------


def test_the_same_requestid_gets_the_same_answer_and_creates_nothing_twice(wire: Wire) -> None:
    item = create("Customer", {"DisplayName": "Anna (stu_1)"})
    first = wire.one(item, requestid="r-1")
    again = wire.one(create("Customer", {"DisplayName": "Other (stu_2)"}), requestid="r-1")
    assert first == again
    assert wire.quickbooks.count("contacts") == 1
    assert wire.quickbooks.replays == 1


def test_more_than_thirty_items_is_refused_whole(wire: Wire) -> None:
    items = [{"bId": str(n), "Query": "select * from Customer"} for n in range(31)]
    assert wire.batch(*items).status_code == 400


def test_the_eleventh_call_in_a_second_is_throttled(wire: Wire, ticker: Ticker) -> None:
    query = {"bId": "1", "Query": "select * from Customer"}
    assert all(wire.batch(query).status_code == 200 for _ in range(10))
    throttled = wire.batch(query)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    ticker.seconds += 1
    assert wire.batch(query).status_code == 200
    assert wire.quickbooks.throttled == 1


def test_the_forty_first_batch_in_a_minute_is_throttled(wire: Wire, ticker: Ticker) -> None:
    query = {"bId": "1", "Query": "select * from Customer"}
    for _ in range(40):
        assert wire.batch(query).status_code == 200
        ticker.seconds += 1.1
    assert wire.batch(query).status_code == 429
    ticker.seconds = 50.0 + 60
    assert wire.batch(query).status_code == 200


def test_a_failure_after_the_work_keeps_the_answer_for_a_retry(wire: Wire) -> None:
    wire.quickbooks.fail_next(503, processed=True)
    item = create("Customer", {"DisplayName": "Anna (stu_1)"})
    assert wire.batch({"bId": "1", **item}, requestid="r-1").status_code == 503
    assert wire.quickbooks.count("contacts") == 1
    assert "Customer" in wire.one(item, requestid="r-1")
    assert wire.quickbooks.count("contacts") == 1


def test_nothing_runs_at_import_and_a_stopped_simulator_has_no_address() -> None:
    simulator = QuickBooksSimulator()
    with pytest.raises(SimulatorError):
        _ = simulator.api_base

"""QuickBooks with its OAuth grant in the database: a rotated refresh token is committed before
it is used, so another process (another engine) carries on with it, and a whole sync of a
student's documents lands in the simulated company."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from conftest import Database

from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
from justdriving.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from justdriving.domain.accounting import (
    AccountingContact,
    AccountingCreditNote,
    AccountingInvoice,
    AccountingLine,
    AccountingPayment,
    OAuthGrant,
)
from justdriving.domain.money import Money
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.testing.quickbooks.simulator import QuickBooksSimulator

pytest.importorskip("httpx")

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
LESSON = AccountingLine("Driving lesson", 2, Money(50000, "DKK"), "1000", "U25", True)


@pytest.fixture
def quickbooks() -> Iterator[QuickBooksSimulator]:
    with QuickBooksSimulator(clock=lambda: NOW) as simulator:
        yield simulator


def client_on(grants: StoredGrants, quickbooks: QuickBooksSimulator) -> QuickBooksAccountingClient:
    return QuickBooksAccountingClient(
        quickbooks.client_id,
        quickbooks.client_secret,
        quickbooks.realm_id,
        grants,
        api_base=quickbooks.api_base,
        token_url=quickbooks.token_url,
        clock=lambda: NOW,
        timezone="Europe/Copenhagen",
    )


def stored(grants: StoredGrants, quickbooks: QuickBooksSimulator) -> OAuthGrant:
    grant = grants.load("quickbooks", quickbooks.realm_id)
    assert grant is not None
    return grant


def test_a_rotated_token_is_committed_and_another_process_carries_on_with_it(
    database: Database, quickbooks: QuickBooksSimulator
) -> None:
    grants = StoredGrants(database.uow)
    connected = quickbooks.connect()
    connected.expires_at = NOW - timedelta(minutes=1)
    grants.save(connected)

    first = client_on(grants, quickbooks)
    first.upsert_contacts([AccountingContact("stu_1", "Søren")], "contacts_1")
    rotated = stored(grants, quickbooks)
    assert rotated.refresh_token != connected.refresh_token
    first.close()

    elsewhere = StoredGrants(SqlUnitOfWorkFactory(database.new_engine()))
    quickbooks.expire_tokens()  # the other process finds the access token dead and refreshes
    second = client_on(elsewhere, quickbooks)
    [result] = second.upsert_contacts([AccountingContact("stu_2", "Anna")], "contacts_2")
    assert result.ok
    assert quickbooks.refreshes == 2
    assert stored(elsewhere, quickbooks).refresh_token != rotated.refresh_token
    second.close()


def test_a_students_documents_land_with_the_right_balances(
    database: Database, quickbooks: QuickBooksSimulator
) -> None:
    grants = StoredGrants(database.uow)
    grants.save(quickbooks.connect())
    client = client_on(grants, quickbooks)
    client.upsert_contacts([AccountingContact("stu_1", "Søren")], "contacts")
    [booked] = client.push_invoices(
        [
            AccountingInvoice(
                "inv_1", "1001", "stu_1", NOW, NOW + timedelta(days=14), "DKK", (LESSON,)
            )
        ],
        "invoices",
    )
    invoice_id = booked.external_id or ""
    client.push_payments(
        [AccountingPayment("pay_1", invoice_id, Money(60000, "DKK"), NOW, "pi_1")], "payments"
    )
    refund = AccountingLine("Cancelled lesson", 1, Money(50000, "DKK"), "1000", "U25", True)
    [credited] = client.push_credit_notes(
        [AccountingCreditNote("cn_1", "K1001", "stu_1", invoice_id, NOW, "DKK", (refund,))], "notes"
    )
    client.close()

    [invoice] = quickbooks.entities("Invoice")
    [memo] = quickbooks.entities("CreditMemo")
    assert (invoice["TotalAmt"], invoice["Balance"]) == (Decimal("1000.00"), Decimal("0.00"))
    assert memo["Balance"] == Decimal("100.00")  # 400 applied; 100 stays as the student's credit
    assert credited.ok

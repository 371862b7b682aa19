"""Contacts are ours by id, never by name: students whose names collide (the same name, another
case, other spaces) each become their own contact, every invoice of theirs reaches the books,
and pushing them again (a re-run, a rename) updates the same contacts instead of adding any.

Run against every accounting client; the Xero and QuickBooks simulators refuse a contact name
or DisplayName another contact holds, as the providers do."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve
from conftest import ACCOUNTING, AccountingBackend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from justdriving.domain.accounting import (
    AccountingContact,
    AccountingInvoice,
    AccountingLine,
    PushResult,
)
from justdriving.domain.addresses import PostalAddress
from justdriving.domain.money import Money
from justdriving.testing.xero.clock import SimulatedTime

ISSUED = datetime(2025, 3, 14, tzinfo=UTC)
LINE = AccountingLine("Driving lesson", 1, Money(50000, "DKK"), "1000", "U25", True)
# Names that collide as written, by case, or by spaces; and one that does not.
NAMES = ("Jonas Madsen", "jonas madsen", "JONAS MADSEN", "Jonas  Madsen", " Jonas Madsen ", "Ea Bø")
_runs = itertools.count(1)


@contextmanager
def xero_in_simulated_time() -> Iterator[AccountingBackend]:
    """Xero's adapter and simulator on one simulated clock: the examples' calls cross the
    minute's limit, and the limiter's waits take no real time."""
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient
    from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
    from justdriving.testing.xero.grants import RecordingGrants
    from justdriving.testing.xero.simulator import XeroSimulator

    time = SimulatedTime(ISSUED)
    with XeroSimulator(clock=time.now) as xero:
        client = XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            xero.tenant_id,
            RecordingGrants(xero.grant()),
            api_base=xero.base_url,
            identity_base=xero.base_url,
            clock=time.now,
            limiter=XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep),
        )
        try:
            yield AccountingBackend(client, xero.count)
        finally:
            client.close()


@contextmanager
def quickbooks_in_simulated_time() -> Iterator[AccountingBackend]:
    """QuickBooks' adapter and simulator on one simulated clock (40 batch calls a minute)."""
    from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator
    from justdriving.testing.xero.grants import RecordingGrants

    time = SimulatedTime(ISSUED)
    with QuickBooksSimulator(clock=time.now, monotonic=time.monotonic) as quickbooks:
        client = QuickBooksAccountingClient(
            quickbooks.client_id,
            quickbooks.client_secret,
            quickbooks.realm_id,
            RecordingGrants(quickbooks.connect()),
            api_base=quickbooks.api_base,
            token_url=quickbooks.token_url,
            clock=time.now,
            monotonic=time.monotonic,
            sleep=time.sleep,
        )
        try:
            yield AccountingBackend(client, quickbooks.count)
        finally:
            client.close()


BACKENDS: dict[str, Callable[[], AbstractContextManager[AccountingBackend]]] = {
    **ACCOUNTING,
    "xero": xero_in_simulated_time,
    "quickbooks": quickbooks_in_simulated_time,
}


@pytest.fixture(params=sorted(BACKENDS))
def accounting(request: pytest.FixtureRequest) -> Iterator[AccountingBackend]:
    with BACKENDS[request.param]() as backend:
        yield backend


def _contacts(run: int, names: Sequence[str]) -> list[AccountingContact]:
    return [
        AccountingContact(record_id=f"stu_{run}_{n}", name=name, email=f"s{run}.{n}@example.dk")
        for n, name in enumerate(names)
    ]


def _invoices(run: int, contacts: Sequence[AccountingContact]) -> list[AccountingInvoice]:
    return [
        AccountingInvoice(
            record_id=f"inv_{run}_{n}",
            number=f"{run}-{n}",
            contact_id=contact.record_id,
            issued_at=ISSUED,
            due_at=ISSUED + timedelta(days=14),
            currency="DKK",
            lines=(LINE,),
        )
        for n, contact in enumerate(contacts)
    ]


def _errors(results: Sequence[PushResult]) -> list[str]:
    return [f"{r.record_id}: {r.error}" for r in results if not r.ok]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(st.sampled_from(NAMES), min_size=2, max_size=6))
def test_students_with_colliding_names_each_reach_the_books_once_across_re_runs(
    accounting: AccountingBackend, names: list[str]
) -> None:
    run = next(_runs)  # one client serves every example: ids and numbers of their own
    client = accounting.client
    contacts, invoices = _contacts(run, names), _invoices(run, _contacts(run, names))
    before = accounting.records("contacts"), accounting.records("invoices")

    first = client.upsert_contacts(contacts, f"c{run}")
    assert _errors(first) == []
    pushed = client.push_invoices(invoices, f"i{run}")
    assert _errors(pushed) == []

    again = client.upsert_contacts(contacts, f"c{run}-again")  # a re-run under a new key
    assert [r.external_id for r in again] == [r.external_id for r in first]
    repushed = client.push_invoices(invoices, f"i{run}-again")
    assert [r.external_id for r in repushed] == [r.external_id for r in pushed]

    assert len({r.external_id for r in first}) == len(contacts)
    assert accounting.records("contacts") == before[0] + len(contacts)
    assert accounting.records("invoices") == before[1] + len(invoices)


def test_a_contact_s_phone_and_address_are_taken_and_changed(
    accounting: AccountingBackend,
) -> None:
    address = PostalAddress("Vestergade 1", "8000", "Aarhus C")
    jonas = AccountingContact("stu_a", "Jonas Madsen", "j@example.dk", "+4520123456", address)
    [first] = accounting.client.upsert_contacts([jonas], "k1")
    moved = evolve(jonas, phone=None, address=evolve(address, street="Østergade 2"))
    [second] = accounting.client.upsert_contacts([moved], "k2")
    assert (first.ok, second.ok) == (True, True)
    assert second.external_id == first.external_id


def test_a_renamed_student_keeps_the_contact_and_takes_a_name_another_has_left(
    accounting: AccountingBackend,
) -> None:
    jonas, sofie = _contacts(0, ["Jonas Madsen", "Sofie Hansen"])
    [first_jonas, first_sofie] = accounting.client.upsert_contacts([jonas, sofie], "k1")
    renamed = [
        AccountingContact(jonas.record_id, "Sofie Hansen", jonas.email),
        AccountingContact(sofie.record_id, "Jonas Madsen", sofie.email),
    ]
    results = accounting.client.upsert_contacts(renamed, "k2")
    assert _errors(results) == []
    assert [r.external_id for r in results] == [first_jonas.external_id, first_sofie.external_id]
    assert accounting.records("contacts") == 2


@given(name=st.text(min_size=1, max_size=300), record_id=st.from_regex(r"stu_[0-9a-f]{32}"))
def test_the_unique_name_keeps_the_whole_id_within_xeros_limit(name: str, record_id: str) -> None:
    unique = AccountingContact(record_id, name).unique_name()
    assert len(unique) <= 255
    assert unique.endswith(f" ({record_id})")

"""Fifty students named Jonas Madsen, in two schools keeping their books in one Xero
organisation (or QuickBooks company), each become a contact of their own, linked by our id, and
every invoice of theirs reaches the books; a second sync creates nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

import pytest
from attrs import define, evolve

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryTemplateRenderer,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.money import Money
from justdriving.domain.schools import AccountMapping, InvoiceService, SchoolSettings
from justdriving.domain.services.invoicing import LineItem
from justdriving.ports.accounting import AccountingClient
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.grants import RecordingGrants

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
NAMESAKES = 25  # per school


@define
class Books:
    client: AccountingClient
    contacts: Callable[[], dict[str, str]]  # our id -> the name the books hold
    invoices: Callable[[], int]


@contextmanager
def xero() -> Iterator[Books]:
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient
    from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
    from justdriving.testing.xero.simulator import XeroSimulator

    time = SimulatedTime(NOW)
    with XeroSimulator(clock=time.now) as simulator:
        client = XeroAccountingClient(
            simulator.client_id,
            simulator.client_secret,
            simulator.tenant_id,
            RecordingGrants(simulator.grant()),
            api_base=simulator.base_url,
            identity_base=simulator.base_url,
            clock=time.now,
            limiter=XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep),
        )
        contacts = simulator.books.contacts
        yield Books(
            client,
            lambda: {str(c.number): c.name for c in contacts.values()},
            lambda: simulator.count("invoices"),
        )
        client.close()


@contextmanager
def quickbooks() -> Iterator[Books]:
    from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator

    time = SimulatedTime(NOW)
    with QuickBooksSimulator(clock=time.now, monotonic=time.monotonic) as simulator:
        client = QuickBooksAccountingClient(
            simulator.client_id,
            simulator.client_secret,
            simulator.realm_id,
            RecordingGrants(simulator.connect()),
            api_base=simulator.api_base,
            token_url=simulator.token_url,
            clock=time.now,
            monotonic=time.monotonic,
            sleep=time.sleep,
        )
        customers = simulator.company.books["Customer"]
        yield Books(
            client,
            lambda: {
                str(c["Notes"]).removeprefix("justdriving:"): str(c["DisplayName"])
                for c in customers.values()
            },
            lambda: simulator.count("invoices"),
        )
        client.close()


PROVIDERS: dict[str, Callable[[], AbstractContextManager[Books]]] = {
    "xero": xero,
    "quickbooks": quickbooks,
}
# Item and tax code ids both simulators know (QuickBooks books income through an item).
ACCOUNTS = {InvoiceService.LESSON: AccountMapping("1000", "U25")}


@pytest.fixture(params=sorted(PROVIDERS))
def books(request: pytest.FixtureRequest) -> Iterator[Books]:
    with PROVIDERS[request.param]() as held:
        yield held


def namesakes(app: Application, school_name: str, prefix: str) -> tuple[str, list[str]]:
    # One organisation, two number series: kept apart by the schools' prefixes.
    settings = evolve(SchoolSettings(), account_map=ACCOUNTS, invoice_number_prefix=prefix)
    school = app.register_school(school_name, settings=settings)
    students = [app.add_student(school.id, "Jonas Madsen") for _ in range(NAMESAKES)]
    for student in students:
        line = LineItem(InvoiceService.LESSON, "Køretime", Money(50000, "DKK"))
        draft = app.draft_invoice(school.id, student.id, [line])
        app.issue_invoice(school.id, draft.id)
    return school.id, [s.id for s in students]


def test_fifty_jonas_madsens_in_two_schools_are_fifty_contacts_and_a_re_run_adds_none(
    books: Books,
) -> None:
    clock = FrozenClock(NOW)
    app = Application(
        uow=MemoryUnitOfWorkFactory(MemoryStore()),
        clock=clock,
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=books.client,
    )
    north, north_students = namesakes(app, "Køreskolen Nord", "N-")
    south, south_students = namesakes(app, "Køreskolen Syd", "S-")

    runs = [app.sync_accounting(north), app.sync_accounting(south)]
    again = [app.sync_accounting(north), app.sync_accounting(south)]

    assert [r.failures for r in runs] == [(), ()]
    assert [r.pushed for r in runs] == [2 * NAMESAKES, 2 * NAMESAKES]  # contacts and invoices
    assert [r.pushed for r in again] == [0, 0]
    held = books.contacts()
    assert sorted(held) == sorted(north_students + south_students)  # linked by our id
    assert len(set(held.values())) == 2 * NAMESAKES
    assert all(name.startswith("Jonas Madsen") for name in held.values())
    assert books.invoices() == 2 * NAMESAKES


def test_two_schools_numbering_alike_in_one_organisation_overwrite_nothing(books: Books) -> None:
    app = Application(
        uow=MemoryUnitOfWorkFactory(MemoryStore()),
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=books.client,
    )
    north, _ = namesakes(app, "Køreskolen Nord", "")
    south, _ = namesakes(app, "Køreskolen Syd", "")  # invoice 1, 2, … again: no prefixes

    first = app.sync_accounting(north)
    second = app.sync_accounting(south)

    assert first.failures == ()
    assert second.failed == NAMESAKES  # each invoice refused with its reason, none overwritten
    assert all("already used" in why or "taken" in why for _, why in second.failures)
    assert books.invoices() == NAMESAKES

"""Books per school, on SQLite and PostgreSQL: two schools, each connected to its own Xero
organisation through the consent flow (`connect_school_books`), run issue → push → payment →
credit note through the outbox; every document lands in its school's organisation with the
school's totals. A school with no connection, or whose grant is revoked, is reported as not
connected, its rows wait with no attempt spent, and reach its books once it connects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from attrs import define
from conftest import Database
from integration_support import NOW

from justdriving.adapters.accounting.organisations import BooksPerSchool
from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.accounting.xero.consent import xero_consent
from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
from justdriving.adapters.memory import (
    FakeEmailSender,
    FakeSmsSender,
    FrozenClock,
    MemoryTemplateRenderer,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.application import Application
from justdriving.domain.errors import BooksNotConnected
from justdriving.domain.outbox import OutboxKind, OutboxStatus
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.ports.accounting import AccountingClient, GrantStore
from justdriving.testing.xero.books import Books
from justdriving.testing.xero.clock import SimulatedTime
from justdriving.testing.xero.simulator import XeroSimulator
from unit.services.test_accounting_fixtures import NO_WAIT, busy_school
from unit.services.test_accounting_fixtures import Books as SchoolDocuments

NORTH_ORG = "3f1b6a52-0000-4c5e-9d1a-5151a7ed0001"  # the simulator's first organisation
SOUTH_ORG = "7c2d9e41-0000-4b6f-8e2a-5151a7ed0002"
EAST_ORG = "9a4e1f30-0000-4d7a-9c3b-5151a7ed0003"
REDIRECT = "https://app.example/accounting/callback"
ACCOUNTS = {code: "REVENUE" for code in ("1000", "1010", "1020", "1030", "1040", "1050")}


@define
class Platform:
    app: Application
    xero: XeroSimulator
    clock: FrozenClock

    def connect(self, school_id: str, tenant_id: str) -> None:
        """The school's bookkeeper consents to its organisation; the redirect's code is
        exchanged through the facade."""
        code = self.xero.authorization_code(REDIRECT, (tenant_id,))
        connection = self.app.connect_school_books(school_id, code, REDIRECT)
        assert connection.grant.tenant_id == tenant_id

    def relay_all(self) -> None:
        while self.app.relay_outbox().claimed:
            pass

    def pushes(self, school_id: str) -> list[tuple[OutboxStatus, int]]:
        with self.app.uow() as uow:
            rows = [
                r
                for status in OutboxStatus
                for r in uow.outbox.list(status.value)
                if r.kind is OutboxKind.PUSH_ACCOUNTING and r.school_id == school_id
            ]
        return [(r.status, r.attempts) for r in rows]


@pytest.fixture
def platform(database: Database) -> Iterator[Platform]:
    time = SimulatedTime(NOW)
    with XeroSimulator(clock=time.now, accounts={**ACCOUNTS, "090": "BANK"}) as xero:
        xero.add_organisation(SOUTH_ORG, "Køreskolen Syd ApS")
        xero.add_organisation(EAST_ORG, "Køreskolen Øst ApS")
        limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)

        def build(tenant_id: str, grants: GrantStore) -> AccountingClient:
            return XeroAccountingClient(
                xero.client_id,
                xero.client_secret,
                tenant_id,
                grants,
                api_base=xero.base_url,
                identity_base=xero.base_url,
                clock=time.now,
                limiter=limiter,
                payment_account_code="090",
            )

        grants = StoredGrants(database.uow)
        consent = xero_consent(
            xero.client_id,
            xero.client_secret,
            identity_base=xero.base_url,
            api_base=xero.base_url,
            clock=time.now,
        )
        clock = FrozenClock(NOW)
        app = Application(
            uow=database.uow,
            clock=clock,
            gateways=MemoryGatewayRegistry({}),
            sms=FakeSmsSender(),
            email=FakeEmailSender(),
            renderer=MemoryTemplateRenderer(),
            accounting=BooksPerSchool("xero", grants, build, platform_tenant=None),
            accounting_retry=NO_WAIT,
            accounting_push=True,
            accounting_consent=lambda: consent,
            grants=grants,
        )
        yield Platform(app, xero, clock)
        consent.close()


def _totals(books: Books) -> tuple[Decimal, Decimal, Decimal]:
    return (
        sum((d.total for d in books.invoices.values()), Decimal(0)),
        sum((p.amount for p in books.payments.values() if p.invoice.kind == "ACCREC"), Decimal(0)),
        sum((d.total for d in books.credit_notes.values()), Decimal(0)),
    )


def _ours(platform: Platform, school: SchoolDocuments) -> tuple[Decimal, Decimal, Decimal]:
    """The school's own totals: issued invoices, payments of invoices, credit notes."""
    with platform.app.uow() as uow:
        notes = [uow.credit_notes.get(n) for n in school.credit_notes]
    return (
        sum((i.totals.gross.to_decimal() for i in school.invoices), Decimal(0)),
        sum((p.amount.to_decimal() for p in school.payments), Decimal(0)),
        sum((n.totals.gross.to_decimal() for n in notes), Decimal(0)),
    )


def test_two_schools_each_push_every_document_to_their_own_organisation(
    platform: Platform,
) -> None:
    north = busy_school(platform.app, "Køreskolen Nord")
    south = busy_school(platform.app, "Køreskolen Syd")
    platform.connect(north.school.id, NORTH_ORG)
    platform.connect(south.school.id, SOUTH_ORG)

    platform.relay_all()

    for school, tenant in ((north, NORTH_ORG), (south, SOUTH_ORG)):
        books = platform.xero.books_of(tenant)
        counts = [len(books.contacts), len(books.invoices), len(books.credit_notes)]
        assert [*counts, len(books.payments)] == [4, 5, 2, 3 + 1]  # and the refund, paid out
        # Each invoice's Reference is our record id: the organisation holds this school's.
        assert {d.reference for d in books.invoices.values()} == {i.id for i in school.invoices}
        assert _totals(books) == _ours(platform, school)
        assert {s for s, _ in platform.pushes(school.school.id)} == {OutboxStatus.SENT}
    assert len(platform.xero.books_of(EAST_ORG).invoices) == 0
    runs = platform.app.sync_all_accounting()
    assert [(r.pushed, r.failed, r.not_connected) for r in runs] == [(0, 0, False)] * 2


def test_a_school_without_books_waits_and_is_reported_then_its_rows_go_once_it_connects(
    platform: Platform,
) -> None:
    north = busy_school(platform.app, "Køreskolen Nord")
    east = busy_school(platform.app, "Køreskolen Øst")
    platform.connect(north.school.id, NORTH_ORG)

    platform.relay_all()
    runs = {r.school_id: r for r in platform.app.sync_all_accounting()}

    assert {s for s, _ in platform.pushes(north.school.id)} == {OutboxStatus.SENT}
    waiting = platform.pushes(east.school.id)
    assert waiting
    assert all(row == (OutboxStatus.DEFERRED, 0) for row in waiting)
    assert runs[east.school.id].not_connected
    assert runs[east.school.id].pushed == 0
    assert not runs[north.school.id].not_connected
    assert "connect --school" in (runs[east.school.id].stopped_early or "")
    with pytest.raises(BooksNotConnected):
        platform.app.sync_accounting(east.school.id)
    assert platform.app.reconcile_accounting() == 0  # nothing queued twice meanwhile

    platform.connect(east.school.id, EAST_ORG)
    assert platform.app.reconcile_accounting() == 0  # its rows are still there, waiting
    platform.clock.advance(timedelta(hours=1, minutes=1))
    platform.relay_all()

    books = platform.xero.books_of(EAST_ORG)
    assert [len(books.invoices), len(books.credit_notes), len(books.payments)] == [5, 2, 4]
    assert _totals(books) == _ours(platform, east)
    assert len(platform.xero.books_of(NORTH_ORG).invoices) == 5  # north's, untouched


def test_a_revoked_grant_is_reported_for_its_school_alone_and_nothing_is_lost(
    platform: Platform,
) -> None:
    north = busy_school(platform.app, "Køreskolen Nord")
    platform.connect(north.school.id, NORTH_ORG)
    south = busy_school(platform.app, "Køreskolen Syd")
    platform.connect(south.school.id, SOUTH_ORG)
    platform.xero.disconnect(SOUTH_ORG)  # south's bookkeeper removed the app in Xero

    platform.relay_all()
    runs = {r.school_id: r for r in platform.app.sync_all_accounting()}

    assert len(platform.xero.books_of(NORTH_ORG).invoices) == 5
    assert len(platform.xero.books_of(SOUTH_ORG).invoices) == 0
    assert {s for s, _ in platform.pushes(south.school.id)} == {OutboxStatus.DEFERRED}
    assert runs[south.school.id].not_connected
    assert not runs[north.school.id].not_connected

    platform.connect(south.school.id, SOUTH_ORG)  # connected again
    platform.clock.advance(timedelta(hours=1, minutes=1))
    platform.relay_all()

    books = platform.xero.books_of(SOUTH_ORG)
    assert [len(books.invoices), len(books.credit_notes), len(books.payments)] == [5, 2, 4]
    assert _totals(books) == _ours(platform, south)
    assert {s for s, _ in platform.pushes(south.school.id)} == {OutboxStatus.SENT}

"""Books per school over both accounting providers (Xero organisations, QuickBooks companies):
a school with its own grant syncs to its own books, one without uses the platform-wide
organisation when there is one and is reported as not connected when there is none, and a
school whose grant was revoked is reported as not connected, alone, with nothing lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from attrs import define, evolve

from justdriving.adapters.accounting.organisations import BooksPerSchool
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
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected
from justdriving.domain.schools import AccountMapping, InvoiceService, School
from justdriving.domain.services.accounting.grants import StoredGrants
from justdriving.ports.accounting import AccountingClient, GrantStore
from justdriving.testing.xero.clock import SimulatedTime
from unit.services.test_accounting_fixtures import NO_WAIT, accounting_school, invoice, student

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
TENANTS = ("tenant-a", "tenant-b", "tenant-platform")
ACCOUNTS = {InvoiceService.LESSON: AccountMapping("1000", "U25")}


@define
class Provider:
    name: str
    build: Callable[[str, GrantStore], AccountingClient]
    grant: Callable[[str, str | None], OAuthGrant]  # (tenant, school) -> a fresh grant
    invoices: Callable[[str], int]  # how many invoices the tenant's books hold


def _xero(stack: ExitStack, time: SimulatedTime) -> Provider:
    from justdriving.adapters.accounting.xero.client import XeroAccountingClient
    from justdriving.adapters.accounting.xero.limits import XeroRateLimiter
    from justdriving.testing.xero.simulator import XeroSimulator

    xero = stack.enter_context(XeroSimulator(clock=time.now, tenant_id=TENANTS[0]))
    for tenant in TENANTS[1:]:
        xero.add_organisation(tenant, tenant)
    limiter = XeroRateLimiter(monotonic=time.monotonic, sleep=time.sleep)

    def build(tenant: str, grants: GrantStore) -> AccountingClient:
        return XeroAccountingClient(
            xero.client_id,
            xero.client_secret,
            tenant,
            grants,
            api_base=xero.base_url,
            identity_base=xero.base_url,
            clock=time.now,
            limiter=limiter,
        )

    return Provider(
        "xero",
        build,
        lambda tenant, school: xero.grant("xero", tenant, school),
        lambda tenant: xero.count("invoices", tenant),
    )


def _quickbooks(stack: ExitStack, time: SimulatedTime) -> Provider:
    from justdriving.adapters.accounting.quickbooks.client import QuickBooksAccountingClient
    from justdriving.testing.quickbooks.simulator import QuickBooksSimulator

    # One company per simulator; the realm id in each call's path picks the company, as at
    # Intuit, so each realm is served at its own address here.
    companies = {
        realm: stack.enter_context(
            QuickBooksSimulator(clock=time.now, monotonic=time.monotonic, realm_id=realm)
        )
        for realm in TENANTS
    }
    first = companies[TENANTS[0]]

    def build(realm: str, grants: GrantStore) -> AccountingClient:
        company = companies[realm]
        return QuickBooksAccountingClient(
            first.client_id,
            first.client_secret,
            realm,
            grants,
            api_base=company.api_base,
            token_url=company.token_url,
            clock=time.now,
            monotonic=time.monotonic,
            sleep=time.sleep,
        )

    def grant(realm: str, school: str | None) -> OAuthGrant:
        issued = companies[realm].connect()
        key = OAuthGrant.school_key("quickbooks", school) if school else issued.id
        return evolve(issued, id=key, school_id=school)

    return Provider("quickbooks", build, grant, lambda realm: companies[realm].count("invoices"))


@pytest.fixture(params=["xero", "quickbooks"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    time = SimulatedTime(NOW)
    with ExitStack() as stack:
        make = _xero if request.param == "xero" else _quickbooks
        yield make(stack, time)


def _platform(provider: Provider, platform_tenant: str | None) -> tuple[Application, StoredGrants]:
    uow = MemoryUnitOfWorkFactory(MemoryStore())
    grants = StoredGrants(uow)
    books = BooksPerSchool(provider.name, grants, provider.build, platform_tenant)
    app = Application(
        uow=uow,
        clock=FrozenClock(NOW),
        gateways=MemoryGatewayRegistry({}),
        sms=FakeSmsSender(),
        email=FakeEmailSender(),
        renderer=MemoryTemplateRenderer(),
        accounting=books,
        accounting_retry=NO_WAIT,
    )
    return app, grants


def _school(app: Application, name: str, invoices: int) -> School:
    school = accounting_school(app, name, accounts=ACCOUNTS)
    pupil = student(app, school, "Jonas Madsen")
    for _ in range(invoices):
        invoice(app, school, pupil)
    return school


def test_each_school_syncs_to_its_own_books_and_the_rest_to_the_platforms(
    provider: Provider,
) -> None:
    app, grants = _platform(provider, platform_tenant=TENANTS[2])
    north, south, _west = (_school(app, n, k) for n, k in (("Nord", 1), ("Syd", 2), ("Vest", 3)))
    grants.save(provider.grant(TENANTS[0], north.id))
    grants.save(provider.grant(TENANTS[1], south.id))
    grants.save(provider.grant(TENANTS[2], None))  # the platform-wide organisation

    runs = app.sync_all_accounting()

    assert [(r.failed, r.not_connected) for r in runs] == [(0, False)] * 3
    assert [provider.invoices(t) for t in TENANTS] == [1, 2, 3]  # west: the platform's


def test_a_school_with_no_books_and_no_platform_organisation_is_reported_not_connected(
    provider: Provider,
) -> None:
    app, grants = _platform(provider, platform_tenant=None)
    north, south = _school(app, "Nord", 1), _school(app, "Syd", 2)
    grants.save(provider.grant(TENANTS[0], north.id))

    runs = {r.school_id: r for r in app.sync_all_accounting()}

    assert (runs[north.id].pushed, runs[north.id].not_connected) == (2, False)
    assert (runs[south.id].pushed, runs[south.id].not_connected) == (0, True)
    with pytest.raises(BooksNotConnected) as raised:
        app.sync_accounting(south.id)
    assert raised.value.school_id == south.id
    grants.save(provider.grant(TENANTS[1], south.id))  # it connects: nothing was lost
    assert app.sync_accounting(south.id).pushed == 3
    assert provider.invoices(TENANTS[1]) == 2


def test_a_revoked_grant_is_not_connected_for_its_school_alone(provider: Provider) -> None:
    app, grants = _platform(provider, platform_tenant=None)
    north, south = _school(app, "Nord", 1), _school(app, "Syd", 1)
    grants.save(provider.grant(TENANTS[0], north.id))
    revoked = provider.grant(TENANTS[1], south.id)
    revoked.access_token, revoked.refresh_token = "revoked-access", "revoked-refresh"
    revoked.expires_at = NOW - timedelta(hours=1)
    grants.save(revoked)

    runs = {r.school_id: r for r in app.sync_all_accounting()}

    assert (runs[north.id].pushed, runs[north.id].not_connected) == (2, False)
    assert runs[south.id].not_connected
    assert runs[south.id].pushed == 0
    assert provider.invoices(TENANTS[1]) == 0
    grants.save(provider.grant(TENANTS[1], south.id))  # connected again
    assert app.sync_accounting(south.id).pushed == 2

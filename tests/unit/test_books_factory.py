"""The composition of books per school (ACCOUNTING_PROVIDER=xero or quickbooks): a school's own
grant gives a client on its organisation, the others the platform's; every Xero client paces
its calls through one limiter that counts per organisation, so each organisation keeps its
own budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from justdriving.adapters.accounting.factory import quickbooks_books, xero_books
from justdriving.adapters.accounting.xero.client import XeroAccountingClient
from justdriving.adapters.memory import MemoryStore, MemoryUnitOfWorkFactory
from justdriving.config import AccountingProvider, Settings
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected
from justdriving.domain.services.accounting.grants import StoredGrants

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def _grant(provider: str, tenant: str, school: str | None) -> OAuthGrant:
    return OAuthGrant(
        id="",
        provider=provider,
        tenant_id=tenant,
        access_token="access-token-value-1",
        refresh_token="refresh-token-value-1",
        expires_at=EXPIRES,
        school_id=school,
    )


def _settings(provider: AccountingProvider, tenant: str | None) -> Settings:
    return Settings(
        database_url="memory://",
        accounting_provider=provider,
        accounting_api_key="client-id",
        accounting_api_secret="client-secret",
        accounting_tenant_id=tenant,
        accounting_payment_account="090",
    )


def test_xero_schools_get_their_own_organisation_or_the_platforms_through_one_limiter() -> None:
    grants = StoredGrants(MemoryUnitOfWorkFactory(MemoryStore()))
    grants.save(_grant("xero", "tenant-north", "sch_north"))
    books = xero_books(_settings(AccountingProvider.XERO, "tenant-platform"), grants)

    north, south = books.for_school("sch_north"), books.for_school("sch_south")

    assert isinstance(north, XeroAccountingClient)
    assert isinstance(south, XeroAccountingClient)
    assert (north.tenant_id, south.tenant_id) == ("tenant-north", "tenant-platform")
    assert north.limiter is south.limiter  # one limiter, counting per tenant id
    assert books.for_school("sch_north") is north  # one client per school and organisation
    grants.save(_grant("xero", "tenant-north-2", "sch_north"))  # reconnected elsewhere
    assert books.for_school("sch_north").tenant_id == "tenant-north-2"  # type: ignore[attr-defined]


@pytest.mark.parametrize("provider", [AccountingProvider.XERO, AccountingProvider.QUICKBOOKS])
def test_without_a_platform_organisation_a_school_without_books_is_not_connected(
    provider: AccountingProvider,
) -> None:
    grants = StoredGrants(MemoryUnitOfWorkFactory(MemoryStore()))
    make = xero_books if provider is AccountingProvider.XERO else quickbooks_books
    books = make(_settings(provider, None), grants)
    grants.save(_grant(provider.value, "9130350000000001", "sch_north"))

    assert books.for_school("sch_north").name == provider.value
    with pytest.raises(BooksNotConnected) as raised:
        books.for_school("sch_south")
    assert raised.value.school_id == "sch_south"
    assert "--school sch_south" in str(raised.value)

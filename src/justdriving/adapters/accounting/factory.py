"""The accounting clients ACCOUNTING_PROVIDER chooses, and the consent flow that connects an
organisation to Xero or QuickBooks; each provider's module is imported only when chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attrs import evolve

from justdriving.config import AccountingProvider, AccountingSettings
from justdriving.domain.errors import ConfigurationError
from justdriving.ports.accounting import (
    AccountingBooks,
    AccountingClient,
    AccountingConsent,
    GrantStore,
)

if TYPE_CHECKING:
    from justdriving.domain.services.accounting.export import AccountingExporter
    from justdriving.domain.services.accounting.grants import StoredGrants


DEVELOPMENT_EXPORT_DIR = "accounting-exports"


def csv_client(settings: AccountingSettings) -> AccountingClient:
    from justdriving.adapters.accounting.csv.client import CsvAccountingClient

    return CsvAccountingClient(settings.accounting_export_dir or DEVELOPMENT_EXPORT_DIR)


def xero_client(settings: AccountingSettings, grants: GrantStore) -> AccountingClient:
    from justdriving.adapters.accounting.xero.client import (
        API_BASE,
        IDENTITY_BASE,
        XeroAccountingClient,
    )

    return XeroAccountingClient(
        settings.accounting_api_key or "",
        settings.accounting_api_secret or "",
        settings.accounting_tenant_id or "",
        grants,
        api_base=settings.accounting_api_base_url or API_BASE,
        identity_base=settings.accounting_token_url or IDENTITY_BASE,
        payment_account_code=settings.accounting_payment_account,
    )


def quickbooks_client(settings: AccountingSettings, grants: GrantStore) -> AccountingClient:
    from justdriving.adapters.accounting.quickbooks.client import (
        LIVE_API,
        QuickBooksAccountingClient,
    )
    from justdriving.adapters.accounting.quickbooks.identity import TOKEN_URL

    return QuickBooksAccountingClient(
        settings.accounting_api_key or "",
        settings.accounting_api_secret or "",
        settings.accounting_tenant_id or "",
        grants,
        api_base=settings.accounting_api_base_url or LIVE_API,
        token_url=settings.accounting_token_url or TOKEN_URL,
    )


def xero_books(settings: AccountingSettings, grants: StoredGrants) -> AccountingBooks:
    """Each school's own Xero organisation, else ACCOUNTING_TENANT_ID's; one rate limiter
    for all of them (it counts per organisation)."""
    from justdriving.adapters.accounting.organisations import BooksPerSchool
    from justdriving.adapters.accounting.xero.client import (
        API_BASE,
        IDENTITY_BASE,
        XeroAccountingClient,
    )
    from justdriving.adapters.accounting.xero.limits import XeroRateLimiter

    limiter = XeroRateLimiter()

    def build(tenant_id: str, store: GrantStore) -> AccountingClient:
        return XeroAccountingClient(
            settings.accounting_api_key or "",
            settings.accounting_api_secret or "",
            tenant_id,
            store,
            api_base=settings.accounting_api_base_url or API_BASE,
            identity_base=settings.accounting_token_url or IDENTITY_BASE,
            payment_account_code=settings.accounting_payment_account,
            limiter=limiter,
        )

    return BooksPerSchool("xero", grants, build, settings.accounting_tenant_id)


def quickbooks_books(settings: AccountingSettings, grants: StoredGrants) -> AccountingBooks:
    """Each school's own QuickBooks company, else ACCOUNTING_TENANT_ID's (each client paces
    its own company's calls)."""
    from justdriving.adapters.accounting.organisations import BooksPerSchool

    def build(realm_id: str, store: GrantStore) -> AccountingClient:
        return quickbooks_client(evolve(settings, accounting_tenant_id=realm_id), store)

    return BooksPerSchool("quickbooks", grants, build, settings.accounting_tenant_id)


def exporter(settings: AccountingSettings, production: bool) -> AccountingExporter | None:
    """CSV files into ACCOUNTING_EXPORT_DIR; outside production, `accounting-exports` when
    it is unset; in production, None when it is unset."""
    folder = settings.accounting_export_dir
    if not folder and not production:
        folder = DEVELOPMENT_EXPORT_DIR
    if not folder:
        return None
    from justdriving.adapters.accounting.csv.export import CsvExporter

    return CsvExporter(folder)


def accounting_consent(settings: AccountingSettings) -> AccountingConsent:
    """The authorisation-code flow of ACCOUNTING_PROVIDER (xero or quickbooks), on the same
    token endpoint (ACCOUNTING_TOKEN_URL) and API root the sync uses."""
    provider = settings.accounting_provider
    if provider not in (AccountingProvider.XERO, AccountingProvider.QUICKBOOKS):
        raise ConfigurationError(
            f"ACCOUNTING_PROVIDER={provider}: connecting is for xero or quickbooks"
        )
    key, secret = settings.accounting_api_key, settings.accounting_api_secret
    missing = [
        name
        for name, value in (("ACCOUNTING_API_KEY", key), ("ACCOUNTING_API_SECRET", secret))
        if not value
    ]
    if missing or key is None or secret is None:
        raise ConfigurationError(f"{provider} needs the app's client id and secret", missing)
    token, base = settings.accounting_token_url, settings.accounting_api_base_url
    if provider is AccountingProvider.XERO:
        from justdriving.adapters.accounting.xero.client import API_BASE, IDENTITY_BASE
        from justdriving.adapters.accounting.xero.consent import xero_consent

        return xero_consent(
            key, secret, identity_base=token or IDENTITY_BASE, api_base=base or API_BASE
        )
    from justdriving.adapters.accounting.quickbooks.consent import quickbooks_consent
    from justdriving.adapters.accounting.quickbooks.identity import TOKEN_URL

    return quickbooks_consent(key, secret, token_url=token or TOKEN_URL)

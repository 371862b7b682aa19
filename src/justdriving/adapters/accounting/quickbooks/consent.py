"""Connecting a QuickBooks Online company: the shared authorisation-code flow (accounting.oauth)
on appcenter.intuit.com. Intuit's redirect names the company (`realmId`) next to the code, and
the tokens belong to it: the caller passes it as `tenant_id`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from justdriving.adapters.accounting.oauth.consent import OAuthConsent
from justdriving.adapters.accounting.quickbooks.identity import endpoints
from justdriving.domain.errors import ConfigurationError


def quickbooks_consent(
    client_id: str,
    client_secret: str,
    *,
    token_url: str,
    provider: str = "quickbooks",
    http: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
) -> OAuthConsent:
    """Implements ports.accounting.AccountingConsent for one Intuit app (client id and secret)."""
    realm = RealmOfTheRedirect()
    return OAuthConsent(
        client_id,
        client_secret,
        endpoints(token_url),
        lambda _: realm,
        provider=provider,
        http=http,
        clock=clock,
    )


class RealmOfTheRedirect:
    """Implements accounting.oauth.consent.Organisations: the realmId the redirect carried."""

    def __repr__(self) -> str:
        return "RealmOfTheRedirect()"

    def check(self, wanted: str | None) -> None:
        if not wanted:
            raise ConfigurationError(
                "QuickBooks needs the company's realm id: the realmId of the redirect "
                "(--realm-id) or ACCOUNTING_TENANT_ID"
            )

    def pick(self, access_token: str, wanted: str | None) -> tuple[str, str | None]:
        self.check(wanted)
        return str(wanted), None

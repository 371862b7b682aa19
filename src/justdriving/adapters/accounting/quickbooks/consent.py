"""Connecting a QuickBooks Online company: Intuit's OAuth2 authorisation-code flow, over httpx.

1. A person opens `authorize_url` (appcenter.intuit.com/connect/oauth2, scope
   com.intuit.quickbooks.accounting), signs in to the company and consents; Intuit redirects to
   `redirect_uri` with `code`, `realmId` (the company) and our `state`.
2. `exchange_code` POSTs the code, with the same redirect_uri and grant_type=authorization_code,
   to the token endpoint the refresh uses (client id and secret as HTTP Basic auth). The
   tokens belong to the realm the redirect named: the caller passes it as `tenant_id`.
A code works once; Intuit answers invalid_grant for a used, expired or mismatched one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import httpx

from justdriving.adapters.accounting.quickbooks.api import (
    CREDENTIAL_SETTINGS,
    DEFAULT_TIMEOUT,
    oauth_error,
    read_json,
)
from justdriving.domain.accounting import AccountingConnection, OAuthGrant
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
SCOPES = ("com.intuit.quickbooks.accounting",)
RECONNECT = "open `justdriving accounting authorize-url` again for a new code"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class QuickBooksConsent:
    """Implements ports.accounting.AccountingConsent for one Intuit app (client id and secret)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_url: str,
        provider: str = "quickbooks",
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.provider, self._token_url = provider, token_url
        self._client_id, self._credentials = client_id, (client_id, client_secret)
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http, self._clock = http is None, clock

    def __repr__(self) -> str:
        return f"QuickBooksConsent(provider={self.provider!r}, token_url={self._token_url!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        if self._owns_http:
            self._http.close()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(
        self, code: str, redirect_uri: str, tenant_id: str | None
    ) -> AccountingConnection:
        if not tenant_id:
            raise ConfigurationError(
                "QuickBooks needs the company's realm id: the realmId of the redirect "
                "(--realm-id) or ACCOUNTING_TENANT_ID"
            )
        asked_at = self._clock()
        data = self._ask(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        access, refresh, lifetime = (
            data.get("access_token"),
            data.get("refresh_token"),
            data.get("expires_in"),
        )
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise ProviderUnavailable(self.provider, "the token answer has no tokens")
        if not isinstance(lifetime, int | Decimal) or lifetime <= 0:
            raise ProviderUnavailable(self.provider, "the token answer has no expires_in")
        grant = OAuthGrant(
            id=OAuthGrant.key(self.provider, tenant_id),
            provider=self.provider,
            tenant_id=tenant_id,
            access_token=access,
            refresh_token=refresh,
            expires_at=asked_at + timedelta(seconds=int(lifetime)),
        )
        return AccountingConnection(grant)

    def _ask(self, form: dict[str, str]) -> dict[str, object]:
        try:
            response = self._http.post(
                self._token_url,
                auth=self._credentials,
                data=form,
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as error:
            raise ProviderUnavailable(
                self.provider, f"the code exchange failed: {type(error).__name__}; {RECONNECT}"
            ) from error
        refusal = oauth_error(response)
        if response.status_code == 400 and refusal.endswith(" invalid_grant"):
            raise ProviderRejected(
                self.provider,
                "QuickBooks refused the authorisation code (invalid_grant: already used, "
                f"expired, or issued for another redirect URI); {RECONNECT}",
                provider_code="invalid_grant",
            )
        if response.status_code in (400, 401, 403):
            raise ConfigurationError(
                f"QuickBooks refused the code exchange ({refusal})", CREDENTIAL_SETTINGS
            )
        if response.status_code != 200:
            raise ProviderUnavailable(
                self.provider, f"the token endpoint answered {response.status_code}"
            )
        return read_json(response, self.provider)

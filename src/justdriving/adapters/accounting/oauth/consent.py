"""Connecting an organisation: the AccountingConsent port over OAuthApp (the authorisation-code
flow), with the provider saying which organisation the new tokens are for.

1. A person opens `authorize_url` (with our state, the scopes and the redirect URI), signs in
   and consents; the provider redirects to the redirect URI with a code and our state.
2. `exchange_code` sends the code, with the same redirect URI, to the token endpoint. A code
   works once: the provider answers invalid_grant for a used, expired or mismatched one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import httpx
from attrs import evolve

from justdriving.adapters.accounting.oauth.app import Endpoints, OAuthApp, grant_from
from justdriving.domain.accounting import AccountingConnection, OAuthGrant


class Organisations(Protocol):
    """How a provider tells which organisation a consent's tokens are for."""

    def check(self, wanted: str | None) -> None:
        """Refuse (ConfigurationError) before the code is spent when `wanted` cannot do."""

    def pick(self, access_token: str, wanted: str | None) -> tuple[str, str | None]:
        """(tenant id, its name if known) the new tokens are kept for."""


TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OAuthConsent:
    """Implements ports.accounting.AccountingConsent for one app at one provider;
    `organisations` is given the HTTP client the consent uses."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: Endpoints,
        organisations: Callable[[httpx.Client], Organisations],
        *,
        provider: str,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.provider, self._clock = provider, clock or _utc_now
        self._http = http if http is not None else httpx.Client(timeout=TIMEOUT)
        self._owns_http = http is None
        self._app = OAuthApp(
            client_id, client_secret, endpoints, provider=provider, http=self._http
        )
        self._organisations = organisations(self._http)

    def __repr__(self) -> str:
        return f"OAuthConsent({self._app!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        if self._owns_http:
            self._http.close()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return self._app.authorization_url(redirect_uri, state)

    def exchange_code(
        self, code: str, redirect_uri: str, tenant_id: str | None
    ) -> AccountingConnection:
        self._organisations.check(tenant_id)
        asked_at = self._clock()
        token = self._app.exchange(code, redirect_uri)
        unpicked = grant_from(token, self.provider, "", asked_at)  # the answer checked first
        tenant, name = self._organisations.pick(unpicked.access_token, tenant_id)
        grant = evolve(unpicked, id=OAuthGrant.key(self.provider, tenant), tenant_id=tenant)
        return AccountingConnection(grant, tenant_name=name)

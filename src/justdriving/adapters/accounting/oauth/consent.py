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

from justdriving.adapters.accounting.oauth.app import OAuthApp, grant_from
from justdriving.domain.accounting import AccountingConnection


class Organisations(Protocol):
    """How a provider tells which organisation a consent's tokens are for."""

    def check(self, wanted: str | None) -> None:
        """Refuse (ConfigurationError) before the code is spent when `wanted` cannot do."""

    def pick(self, access_token: str, wanted: str | None) -> tuple[str, str | None]:
        """(tenant id, its name if known) the new tokens are kept for."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OAuthConsent:
    """Implements ports.accounting.AccountingConsent for one app at one provider."""

    def __init__(
        self,
        app: OAuthApp,
        organisations: Organisations,
        *,
        owned_http: httpx.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.provider = app.provider
        self._app, self._organisations, self._clock = app, organisations, clock
        self._owned_http = owned_http

    def __repr__(self) -> str:
        return f"OAuthConsent({self._app!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        if self._owned_http is not None:
            self._owned_http.close()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return self._app.authorization_url(redirect_uri, state)

    def exchange_code(
        self, code: str, redirect_uri: str, tenant_id: str | None
    ) -> AccountingConnection:
        self._organisations.check(tenant_id)
        asked_at = self._clock()
        token = self._app.exchange(code, redirect_uri)
        first = grant_from(token, self.provider, tenant_id or "?", asked_at)
        tenant_id, name = self._organisations.pick(first.access_token, tenant_id)
        return AccountingConnection(
            grant_from(token, self.provider, tenant_id, asked_at), tenant_name=name
        )

"""Connecting a Xero organisation: Xero's OAuth2 authorisation-code flow, over httpx.

1. A person opens `authorize_url` (login.xero.com), signs in, picks the organisations to
   connect and consents; Xero redirects to `redirect_uri` with `code` and our `state`.
2. `exchange_code` POSTs the code, with the same redirect_uri and grant_type=authorization_code,
   to the identity token endpoint (client id and secret as HTTP Basic auth, as for a refresh).
   A code works once; Xero answers invalid_grant for a used, expired or mismatched one.
3. The tokens belong to the person, not to one organisation: GET {api}/connections lists the
   tenants they connected, and the grant is kept for the one the sync is configured for.

`offline_access` is what makes Xero hand out a refresh token. The accounting scopes are the
granular ones (required for apps created since March 2026) that cover what xero.client calls:
Contacts, Invoices and CreditNotes (with their Allocations), and Payments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from justdriving.adapters.accounting.xero.api import DEFAULT_TIMEOUT
from justdriving.adapters.accounting.xero.identity import ask_token, grant_from, token_url
from justdriving.domain.accounting import AccountingConnection
from justdriving.domain.errors import ConfigurationError, ProviderRejected, ProviderUnavailable

AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
SCOPES = ("offline_access", "accounting.contacts", "accounting.invoices", "accounting.payments")
CONNECTIONS_PATH = "/connections"
RECONNECT = "open `justdriving accounting authorize-url` again for a new code"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XeroConsent:
    """Implements ports.accounting.AccountingConsent for one Xero app (client id and secret)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        identity_base: str,
        api_base: str,
        scopes: Sequence[str] = SCOPES,
        provider: str = "xero",
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.provider, self.scopes = provider, tuple(scopes)
        self._client_id, self._credentials = client_id, (client_id, client_secret)
        self._token_url = token_url(identity_base)
        self._connections_url = api_base.rstrip("/") + CONNECTIONS_PATH
        self._http = http if http is not None else httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http, self._clock = http is None, clock

    def __repr__(self) -> str:
        return f"XeroConsent(provider={self.provider!r}, token_url={self._token_url!r})"

    def close(self) -> None:
        """Close the HTTP client this adapter made (not one it was given)."""
        if self._owns_http:
            self._http.close()

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.scopes),
            "state": state,
        }
        return f"{AUTHORIZE_URL}?{urlencode(query)}"

    def exchange_code(
        self, code: str, redirect_uri: str, tenant_id: str | None
    ) -> AccountingConnection:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        answer = ask_token(self._http, self._token_url, self._credentials, form, self.provider)
        if answer.get("error") == "invalid_grant":
            raise ProviderRejected(
                self.provider,
                "Xero refused the authorisation code (invalid_grant: already used, expired, or "
                f"issued for another redirect URI); {RECONNECT}",
                provider_code="invalid_grant",
            )
        access_token = answer.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise ProviderUnavailable(self.provider, "Xero's token answer has no access_token")
        tenant_id, name = _chosen(self._connections(access_token), tenant_id)
        return AccountingConnection(
            grant_from(answer, self.provider, tenant_id, self._clock()), tenant_name=name
        )

    def _connections(self, access_token: str) -> list[dict[str, Any]]:
        """The tenants the new tokens reach: GET /connections, no xero-tenant-id header."""
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            response = self._http.get(self._connections_url, headers=headers)
        except httpx.TransportError as error:
            raise ProviderUnavailable(
                self.provider, f"GET /connections failed: {type(error).__name__}; {RECONNECT}"
            ) from error
        if response.status_code != 200:
            raise ProviderUnavailable(
                self.provider,
                f"GET /connections answered {response.status_code}; {RECONNECT}",
                possibly_done=False,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise ProviderUnavailable(self.provider, "GET /connections answered no list")
        return [c for c in body if isinstance(c, dict) and isinstance(c.get("tenantId"), str)]


def _chosen(connections: list[dict[str, Any]], wanted: str | None) -> tuple[str, str | None]:
    """(tenant id, name): `wanted` if the consent connected it, else the only organisation."""
    if not connections:
        raise ConfigurationError(
            f"the consent connected no Xero organisation; {RECONNECT} and pick one"
        )
    listed = ", ".join(f"{c.get('tenantName') or '?'} ({c['tenantId']})" for c in connections)
    if wanted is not None:
        for connection in connections:
            if str(connection["tenantId"]).lower() == wanted.lower():
                return str(connection["tenantId"]), _name(connection)
        raise ConfigurationError(
            f"ACCOUNTING_TENANT_ID {wanted} is not among the organisations this consent "
            f"connected: {listed}; {RECONNECT} and pick it"
        )
    if len(connections) > 1:
        raise ConfigurationError(
            f"the consent connected several Xero organisations: {listed}; set "
            f"ACCOUNTING_TENANT_ID to the school's one (for a school's own books: connect "
            f"--school ID --tenant-id TENANT_ID), then {RECONNECT}"
        )
    return str(connections[0]["tenantId"]), _name(connections[0])


def _name(connection: dict[str, Any]) -> str | None:
    name = connection.get("tenantName")
    return name if isinstance(name, str) and name else None

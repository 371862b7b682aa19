"""Connecting a Xero organisation: the shared authorisation-code flow (accounting.oauth) on
login.xero.com, then the organisation picked from the ones the person connected.

The tokens belong to the person, not to one organisation: GET {api}/connections lists the
tenants they connected, and the grant is kept for the one the sync is configured for (or the
only one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from justdriving.adapters.accounting.oauth.app import RECONNECT
from justdriving.adapters.accounting.oauth.consent import OAuthConsent
from justdriving.adapters.accounting.xero.identity import SCOPES, endpoints
from justdriving.domain.errors import ConfigurationError, ProviderUnavailable

CONNECTIONS_PATH = "/connections"


def xero_consent(
    client_id: str,
    client_secret: str,
    *,
    identity_base: str,
    api_base: str,
    scopes: Sequence[str] = SCOPES,
    provider: str = "xero",
    http: httpx.Client | None = None,
    clock: Callable[[], datetime] | None = None,
) -> OAuthConsent:
    """Implements ports.accounting.AccountingConsent for one Xero app (client id and secret)."""
    return OAuthConsent(
        client_id,
        client_secret,
        endpoints(identity_base, scopes),
        lambda client: XeroConnections(api_base, provider, client),
        provider=provider,
        http=http,
        clock=clock,
    )


class XeroConnections:
    """Implements accounting.oauth.consent.Organisations: the tenants GET /connections lists."""

    def __init__(self, api_base: str, provider: str, http: httpx.Client) -> None:
        self._url, self._provider = api_base.rstrip("/") + CONNECTIONS_PATH, provider
        self._http = http

    def __repr__(self) -> str:
        return f"XeroConnections({self._url!r})"

    def check(self, wanted: str | None) -> None:
        """Any tenant, or none (the only one connected), can do until /connections says."""

    def pick(self, access_token: str, wanted: str | None) -> tuple[str, str | None]:
        return _chosen(self._connections(access_token), wanted)

    def _connections(self, access_token: str) -> list[dict[str, Any]]:
        """The tenants the new tokens reach: GET /connections, no xero-tenant-id header."""
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        try:
            response = self._http.get(self._url, headers=headers)
        except httpx.TransportError as error:
            raise ProviderUnavailable(
                self._provider, f"GET /connections failed: {type(error).__name__}; {RECONNECT}"
            ) from error
        if response.status_code != 200:
            raise ProviderUnavailable(
                self._provider,
                f"GET /connections answered {response.status_code}; {RECONNECT}",
                possibly_done=False,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise ProviderUnavailable(self._provider, "GET /connections answered no list")
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

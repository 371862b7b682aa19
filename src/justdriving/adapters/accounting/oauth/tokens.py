"""The access token for one organisation, kept in a GrantStore and refreshed through OAuthApp.

Xero and QuickBooks ROTATE the refresh token on each refresh (the old one stops working). So
the new grant is saved to the GrantStore (a durable write, from Authlib's update_token hook)
before its access token is used: a crash after the refresh then loses nothing. A save that
fails stops the call and is tried again before the next one.

Several processes share the store. Before refreshing, the stored grant is read again: another
process may have rotated it already, and its grant is used. When the provider still refuses
our (then old) refresh token with invalid_grant, the store is read once more and the grant it
holds followed; a refusal with no newer grant stored means the school must connect again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import httpx

from justdriving.adapters.accounting.oauth.app import Endpoints, InvalidGrant, OAuthApp
from justdriving.domain.accounting import OAuthGrant
from justdriving.domain.errors import BooksNotConnected
from justdriving.ports.accounting import GrantStore


class GrantTokens:
    """The current access token for (provider, tenant), refreshed and rotated as needed."""

    def __init__(
        self,
        app: OAuthApp,
        tenant_id: str,
        grants: GrantStore,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.provider, self.tenant_id = app.provider, tenant_id
        self._app, self._grants, self._clock = app, grants, clock
        self._margin = app.endpoints.refresh_margin
        self._grant: OAuthGrant | None = None
        self._unsaved: OAuthGrant | None = None
        self._lock = threading.Lock()

    @classmethod
    def of_app(
        cls,
        credentials: tuple[str, str],
        endpoints: Endpoints,
        tenant_id: str,
        grants: GrantStore,
        *,
        provider: str,
        http: httpx.Client,
        clock: Callable[[], datetime],
    ) -> GrantTokens:
        """The tokens of the app (client id, secret) at `endpoints`, over `http`."""
        client_id, client_secret = credentials
        app = OAuthApp(client_id, client_secret, endpoints, provider=provider, http=http)
        return cls(app, tenant_id, grants, clock=clock)

    def __repr__(self) -> str:
        return f"GrantTokens(provider={self.provider!r}, tenant_id={self.tenant_id!r})"

    def access_token(self) -> str:
        """A token with at least the refresh margin left (refreshing, and saving, if need be)."""
        with self._lock:
            grant = self._current()
            return (self._renewed(grant) if self._expiring(grant) else grant).access_token

    def renew(self, refused: str) -> str:
        """After a 401 for `refused`: a newer token, from another thread, the store or the
        provider."""
        with self._lock:
            grant = self._current()
            if grant.access_token != refused:
                return grant.access_token
            return self._renewed(grant, refused=refused).access_token

    # Mechanics (under the lock).

    def _current(self) -> OAuthGrant:
        if self._unsaved is not None:
            self._keep(self._unsaved)
        if self._grant is None:
            self._grant = self._load()
        return self._grant

    def _expiring(self, grant: OAuthGrant) -> bool:
        return grant.expires_at - self._clock() < self._margin

    def _renewed(self, held: OAuthGrant, refused: str | None = None) -> OAuthGrant:
        """The stored grant when another process renewed it since `held`, else a refresh."""
        stored = self._load()
        if stored.access_token not in (refused, held.access_token) and not self._expiring(stored):
            self._grant = stored
            return stored
        return self._refresh(stored)

    def _load(self) -> OAuthGrant:
        grant = self._grants.load(self.provider, self.tenant_id)
        if grant is None:
            name = self._app.endpoints.name
            raise BooksNotConnected(
                f"{name} is not connected for organisation {self.tenant_id}: no OAuth grant is "
                f"stored. Connect it (`justdriving accounting connect`, the authorisation-code "
                f"flow), which stores the grant with GrantStore.save under {self.provider!r}",
                (f"OAuthGrant {OAuthGrant.key(self.provider, self.tenant_id)}",),
            )
        return grant

    def _refresh(self, grant: OAuthGrant, *, again: bool = True) -> OAuthGrant:
        def keep(fresh: OAuthGrant) -> None:
            fresh.version = grant.version
            self._unsaved = fresh
            self._keep(fresh)

        try:
            return self._app.refresh(grant.refresh_token, self.tenant_id, self._clock(), keep)
        except InvalidGrant:
            stored = self._load()
            if again and stored.refresh_token != grant.refresh_token:
                # Another process rotated it first and saved the result: carry on from there.
                self._grant = stored
                return self._refresh(stored, again=False) if self._expiring(stored) else stored
            raise BooksNotConnected(
                f"{self._app.endpoints.name} refused the stored refresh token (invalid_grant: "
                "expired, already used, or the app was disconnected): the school must connect "
                "its books again (`justdriving accounting connect`)",
                (f"OAuthGrant {OAuthGrant.key(self.provider, self.tenant_id)}",),
            ) from None

    def _keep(self, grant: OAuthGrant) -> None:
        """Save, then (only then) use: the rotated refresh token must outlive a crash."""
        self._grants.save(grant)
        self._grant, self._unsaved = grant, None
